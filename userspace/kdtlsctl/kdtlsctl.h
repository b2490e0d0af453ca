/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdtlsctl: shared declarations.
 *
 * main.c	command table, usage, batch
 * parse.c	numbers, hex, ADDR:PORT, cipher and record-type names
 * nl.c		generic netlink session, requests, extack
 * print.c	text/JSON emitter, names of stats and flags
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <linux/kdtls.h>

#define KCTL_EXIT_OK	0
#define KCTL_EXIT_FAIL	1
#define KCTL_EXIT_USAGE	2

/* Largest key or salt accepted on the command line: bigger than any cipher
 * needs, so that the kernel's own length checks can be exercised.
 */
#define KCTL_KEY_MAX	64

/* main.c */
int kctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kctl_opt_err(char **argv, int opt);
void kctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *kctl_cmd_name(void);

/* parse.c */
struct kctl_peer {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; 4 bytes used for AF_INET */
	uint16_t port;		/* host order */
};

int kctl_parse_u64(const char *s, uint64_t max, uint64_t *out);
int kctl_parse_u32(const char *s, uint32_t *out);
int kctl_parse_u16(const char *s, uint16_t *out);
int kctl_parse_hex(const char *s, uint8_t *buf, size_t cap, size_t *len);
int kctl_parse_peer(const char *s, struct kctl_peer *peer);
int kctl_parse_sockaddr(const char *s, int family,
			struct sockaddr_storage *ss, socklen_t *len);
int kctl_parse_cipher(const char *s, uint16_t *out);
int kctl_parse_rtype(const char *s, uint8_t *out);
void kctl_wipe_arg(char *arg);

/* print.c */
void out_init(bool json);
bool out_json(void);
void out_begin(const char *key);
void out_end(void);
void out_list_begin(const char *key);
void out_list_end(void);
void out_u64(const char *key, uint64_t v);
void out_str(const char *key, const char *v);
void out_hex(const char *key, const uint8_t *buf, size_t len);
void out_peer(const char *key, struct nlattr **tb);
void out_sock_flags(const char *key, uint32_t flags);
void out_record_flags(const char *key, uint32_t flags);
void out_stats(const char *key, struct nlattr *nest);
const char *kctl_cipher_name(unsigned int cipher);
const char *kctl_attr_name(int type, bool key_set);

/* nl.c */
typedef int (*kctl_reply_fn)(uint8_t cmd, struct nlattr **tb, void *arg);

int kctl_nl_open(void);
struct nl_sock *kctl_nl_sock(void);
int kctl_nl_family(void);
int kctl_nl_parse(struct nl_msg *msg, uint8_t *cmd, struct nlattr **tb);
struct nl_msg *kctl_msg_new(uint8_t cmd, int flags);
int kctl_request(struct nl_msg *msg, const char *op,
		 kctl_reply_fn fn, void *arg);
int kctl_put_peer(struct nl_msg *msg, const struct kctl_peer *peer);
extern struct nla_policy kctl_key_policy[KDTLS_A_KEY_MAX + 1];

/* sock.c */
int cmd_socket(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int kctl_attach(uint32_t fd, uint32_t flags, bool has_max, uint32_t max);

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
