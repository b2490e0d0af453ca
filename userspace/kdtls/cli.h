/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kdtls: the admin CLI, in the spirit of `wg show`.
 *
 * main.c	commands, options, usage
 * query.c	a snapshot of the namespace: sock-get and assoc-get dumps
 * text.c	the snapshot for people: wg-style blocks and field lists
 * json.c	the snapshot for machines
 * monitor.c	"events" notifications as they happen
 * proc.c	which process holds a netlink port id (the agent)
 *
 * The netlink client, number parsing and the JSON emitter are libkctl's,
 * shared with kdtlsctl (userspace/kdtlsctl/kctl.h).
 */
#ifndef KDTLS_CLI_H
#define KDTLS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "kctl.h"

/* Counters are kept by type; types this tool does not know are kept too. */
#define KCLI_NSTATS	64

struct kcli_stats {
	uint64_t v[KCLI_NSTATS];
	uint64_t present;		/* bit N: counter N was sent */
};

struct kcli_key {
	bool valid;			/* the direction has a key */
	uint16_t epoch;
	uint64_t seq;
};

struct kcli_assoc {
	char peer[KCTL_PEER_STRLEN];
	uint16_t version;
	uint16_t cipher;
	uint32_t replay_window;
	uint32_t rx_grace_ms;
	uint32_t max_payload;
	struct kcli_key tx, rx;
	struct kcli_stats stats;
};

struct kcli_sock {
	uint32_t id;
	uint16_t family;		/* AF_INET or AF_INET6 */
	uint32_t flags;
	uint32_t max_assocs;
	uint32_t num_assocs;
	uint32_t agent_portid;		/* 0: no agent */
	struct kcli_stats stats;
	struct kcli_assoc *assocs;
	size_t nassocs;
};

struct kcli_snap {
	struct kcli_sock *socks;	/* by ascending sock-id */
	size_t nsocks;
};

/* What `show` prints: everything, or one field list (wg show IF FIELD). */
enum kcli_field {
	KCLI_ALL,
	KCLI_SOCKETS,
	KCLI_PEERS,
	KCLI_CIPHERS,
	KCLI_EPOCHS,
	KCLI_TRANSFER,
	KCLI_DROPS,
	KCLI_STATS,
};

/* query.c */
int kcli_snap_get(struct kcli_snap *snap, bool one, uint32_t id);
void kcli_snap_free(struct kcli_snap *snap);
bool kcli_is_drop(unsigned int stat);
uint64_t kcli_stat(const struct kcli_stats *s, unsigned int stat);

/* text.c */
void kcli_text_show(const struct kcli_snap *snap, bool verbose);
int kcli_text_field(const struct kcli_snap *snap, enum kcli_field field,
		    bool prefix);
const char *kcli_bytes(uint64_t n, char *buf, size_t len);
const char *kcli_drop_name(unsigned int stat);

/* json.c */
void kcli_json_show(const struct kcli_snap *snap);

/* monitor.c */
int kcli_monitor(bool json);

/* proc.c */
int kcli_netlink_owner(uint32_t portid, char *buf, size_t len);

#endif /* KDTLS_CLI_H */
