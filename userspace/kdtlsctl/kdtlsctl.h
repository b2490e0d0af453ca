/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdtlsctl: declarations of the commands.  The netlink client, parsing
 * and output are libkctl's (kctl.h), shared with the kdtls admin CLI.
 *
 * main.c	command table, usage, batch
 * sock.c	socket, attach, detach
 * assoc.c	assoc add/del/rekey
 * show.c	show (sock-get, assoc-get)
 * record.c	send (record-send), monitor (events, record notifications)
 *
 * Every command handler takes (argc, argv) with argv[0] the command word
 * and returns the process exit status: 0 success, 1 failure reported by the
 * kernel or the system, 2 bad usage.
 */
#ifndef KDTLSCTL_H
#define KDTLSCTL_H

#include "kctl.h"

/* main.c */
int kctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kctl_opt_err(char **argv, int opt);
const char *kctl_cmd_name(void);

/* sock.c */
int cmd_socket(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int kctl_attach(uint32_t fd, uint32_t flags, bool has_max, uint32_t max,
		int gro);

/* assoc.c */
int cmd_assoc_add(int argc, char **argv);
int cmd_assoc_del(int argc, char **argv);
int cmd_assoc_rekey(int argc, char **argv);

/* show.c */
int cmd_show(int argc, char **argv);

/* record.c */
int cmd_send(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

#endif /* KDTLSCTL_H */
