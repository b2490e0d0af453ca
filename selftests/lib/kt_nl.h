/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal client of the kdtls generic netlink family (libnl-genl-3), for
 * the tests.  Every function returns 0 (or a count) or a negative errno; the
 * extack message of the last failed request is kept in kt_nl_extack().
 */
#ifndef _KT_NL_H
#define _KT_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/kdtls.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

struct kt_key {
	uint16_t epoch;
	uint64_t seq;
	uint8_t key[32];
	int key_len;		/* bytes of key to send; -1 = omit */
	uint8_t salt[12];
	int salt_len;		/* -1 = omit */
};

/* Optional assoc-add attributes; zero fields are not sent. */
struct kt_assoc_opts {
	uint16_t version;	/* 0 = 0xfefd */
	uint32_t window;
	uint32_t grace_ms;
	bool set_grace;		/* send grace_ms even when 0 */
	uint32_t max_payload;
	bool peer_as_addr6;	/* send an AF_INET peer as v4-mapped addr6 */
};

struct kt_sock_info {
	uint32_t sock_id, flags, max_assocs, num_assocs, agent_portid;
	uint16_t family;
	uint8_t gro;		/* sock-gro */
	uint64_t stats[KDTLS_STAT_MAX + 1];
	bool seen[KDTLS_A_MAX + 1];
};

struct kt_assoc_info {
	uint32_t sock_id;
	struct sockaddr_storage peer;
	uint16_t version, cipher;
	uint16_t tx_epoch, rx_epoch;
	uint64_t tx_seq, rx_seq;
	uint32_t window, grace_ms, max_payload;
	uint64_t stats[KDTLS_STAT_MAX + 1];
	bool seen[KDTLS_A_MAX + 1];
	/* any attribute in the TX/RX nests other than epoch, seq, pad */
	int key_attrs;
};

int kt_nl_init(void);
const char *kt_nl_extack(void);
/* NLMSGERR_ATTR_MISS_TYPE of the last failed request, or -1 */
int kt_nl_miss_type(void);
int kt_nl_family(void);

/* ---- building blocks for hand-made (and malformed) requests ---- */
typedef int (*kt_reply_cb)(struct nlattr **tb, struct nlmsghdr *nlh,
			   void *arg);
struct nl_msg *kt_msg_new(uint8_t cmd, bool dump);
int kt_put_peer(struct nl_msg *m, const struct sockaddr *peer, bool as6);
int kt_put_key(struct nl_msg *m, int attr, const struct kt_key *k);
/* Send, wait for the ack/done; frees @m.  Return: 0 or -errno. */
int kt_nl_request(struct nl_msg *m, kt_reply_cb cb, void *arg);
/* Same on another netlink socket (from kt_nl_sock_new()). */
int kt_nl_request_on(struct nl_sock *sk, struct nl_msg *m, kt_reply_cb cb,
		     void *arg);
/* A new generic netlink socket of the caller's own (ext ack on), or NULL. */
struct nl_sock *kt_nl_sock_new(void);
/* Same, copying the extack message into @extack (may be empty). */
int kt_nl_raw(struct nl_msg *m, char *extack, size_t len);

/* ---- operations ---- */
int kt_attach(int fd, uint32_t flags, uint32_t *sock_id);
/* sock-attach sent on @sk: with KDTLS_SOCK_F_AGENT, @sk is the agent */
int kt_attach_on(struct nl_sock *sk, int fd, uint32_t flags,
		 uint32_t *sock_id);
int kt_attach_max(int fd, uint32_t flags, uint32_t max_assocs,
		  uint32_t *sock_id);
int kt_detach(int fd);
/* sock-set with only sock-gro (and so no agent: flags 0) */
int kt_sock_set_gro(int fd, bool on);
int kt_sock_get(int fd, struct kt_sock_info *info);
int kt_sock_get_by_id(uint32_t id, struct kt_sock_info *info);
int kt_sock_dump(struct kt_sock_info *out, int max);
int kt_sock_get_stats(int fd, uint64_t stats[KDTLS_STAT_MAX + 1]);

int kt_assoc_add(int fd, const struct sockaddr *peer, uint16_t cipher,
		 const struct kt_key *tx, const struct kt_key *rx,
		 uint32_t window);
int kt_assoc_add_ex(int fd, const struct sockaddr *peer, uint16_t cipher,
		    const struct kt_key *tx, const struct kt_key *rx,
		    const struct kt_assoc_opts *o);
int kt_assoc_del(int fd, const struct sockaddr *peer);
int kt_rekey(int fd, const struct sockaddr *peer, const struct kt_key *tx,
	     const struct kt_key *rx);
int kt_assoc_get(int fd, const struct sockaddr *peer,
		 struct kt_assoc_info *info);
int kt_assoc_dump(int fd, struct kt_assoc_info *out, int max);
int kt_assoc_get_stats(int fd, const struct sockaddr *peer,
		       uint64_t stats[KDTLS_STAT_MAX + 1]);

int kt_record_send(int fd, const struct sockaddr *peer, uint8_t type,
		   uint32_t flags, const void *data, size_t len);

/* A key for @cipher with bytes derived from @tag (distinct per tag). */
void kt_key_make(struct kt_key *k, unsigned int cipher, uint16_t epoch,
		 uint64_t seq, uint8_t tag);

extern const char *const kt_stat_names[KDTLS_STAT_MAX + 1];

#endif
