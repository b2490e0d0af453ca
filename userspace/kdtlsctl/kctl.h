/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libkctl: the generic netlink client of kdtls.ko shared by kdtlsctl (the
 * low-level tool) and kdtls (the admin CLI), built as an internal static
 * library (userspace/kdtlsctl/libkctl.a).
 *
 * err.c	error messages, prefixed with the program's name
 * parse.c	numbers, hex, ADDR:PORT, cipher and record-type names
 * nl.c		generic netlink session, requests, extack, events group
 * print.c	text/JSON emitter, names of stats, ciphers and flags
 */
#ifndef KCTL_H
#define KCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>

#include <linux/kdtls.h>

#define KCTL_EXIT_OK	0
#define KCTL_EXIT_FAIL	1
#define KCTL_EXIT_USAGE	2

/* Largest key or salt accepted on the command line: bigger than any cipher
 * needs, so that the kernel's own length checks can be exercised.
 */
#define KCTL_KEY_MAX	64

/* err.c */
extern const char *kctl_prog;
void kctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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
#define KCTL_PEER_STRLEN	(46 + 8)	/* "[" INET6_ADDRSTRLEN "]:65535" */
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
int kctl_peer_str(struct nlattr **tb, char *buf, size_t len);
void out_sock_flags(const char *key, uint32_t flags);
void out_record_flags(const char *key, uint32_t flags);
void out_stats(const char *key, struct nlattr *nest);
const char *kctl_cipher_name(unsigned int cipher);
const char *kctl_stat_name(unsigned int stat);
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
int kctl_nl_join_events(void);
int kctl_nl_listen(nl_recvmsg_msg_cb_t fn, void *arg);
extern struct nla_policy kctl_key_policy[KDTLS_A_KEY_MAX + 1];

#endif /* KCTL_H */
