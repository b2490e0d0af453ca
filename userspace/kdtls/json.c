// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls: the snapshot as one JSON document (libkctl's emitter, so the
 * names are the netlink spec's, as in `kdtlsctl show --json`):
 *
 *   [ { "sock-id": 1, "family": 4, "flags": ["agent"],
 *       "max-assocs": 262144, "num-assocs": 2, "agent-portid": 212,
 *       "agent": "kdtlsd[212]",			(when it can be told)
 *       "stats": { "tx-records": 20, ..., "drop-auth": 3, ... },
 *       "peers": [ { "peer": "127.0.0.1:40001", "version": 65277,
 *                    "cipher": "aes-128-gcm", "replay-window": 64,
 *                    "rx-grace-ms": 10000, "max-payload": 16384,
 *                    "tx": { "epoch": 1, "seq": 21 },
 *                    "rx": { "epoch": 1, "seq": 21 },
 *                    "stats": { ... } } ] } ]
 *
 * Every counter is there, zeros included: machines filter for themselves.
 * A direction without a key has no "tx"/"rx" member.
 */
#include <stdio.h>
#include <sys/socket.h>

#include "cli.h"

static void json_stats(const struct kcli_stats *s)
{
	out_begin("stats");
	for (unsigned int i = 0; i < KCLI_NSTATS; i++) {
		const char *name = kctl_stat_name(i);
		char num[16];

		if (!(s->present & (1ULL << i)))
			continue;
		if (!name) {
			snprintf(num, sizeof(num), "stat-%u", i);
			name = num;
		}
		out_u64(name, s->v[i]);
	}
	out_end();
}

static void json_key(const char *key, const struct kcli_key *k)
{
	if (!k->valid)
		return;
	out_begin(key);
	out_u64("epoch", k->epoch);
	out_u64("seq", k->seq);
	out_end();
}

static void json_assoc(const struct kcli_assoc *a)
{
	const char *cipher = kctl_cipher_name(a->cipher);

	out_begin(NULL);
	out_str("peer", a->peer);
	out_u64("version", a->version);
	if (cipher)
		out_str("cipher", cipher);
	else
		out_u64("cipher", a->cipher);
	out_u64("replay-window", a->replay_window);
	out_u64("rx-grace-ms", a->rx_grace_ms);
	out_u64("max-payload", a->max_payload);
	json_key("tx", &a->tx);
	json_key("rx", &a->rx);
	json_stats(&a->stats);
	out_end();
}

static void json_sock(const struct kcli_sock *s)
{
	char owner[64];

	out_begin(NULL);
	out_u64("sock-id", s->id);
	out_u64("family", s->family == AF_INET ? 4 :
			  s->family == AF_INET6 ? 6 : s->family);
	out_sock_flags("flags", s->flags);
	out_u64("max-assocs", s->max_assocs);
	out_u64("num-assocs", s->num_assocs);
	out_u64("agent-portid", s->agent_portid);
	if (s->agent_portid &&
	    !kcli_netlink_owner(s->agent_portid, owner, sizeof(owner)))
		out_str("agent", owner);
	json_stats(&s->stats);
	out_list_begin("peers");
	for (size_t i = 0; i < s->nassocs; i++)
		json_assoc(&s->assocs[i]);
	out_list_end();
	out_end();
}

void kcli_json_show(const struct kcli_snap *snap)
{
	out_init(true);
	out_list_begin(NULL);
	for (size_t i = 0; i < snap->nsocks; i++)
		json_sock(&snap->socks[i]);
	out_list_end();
}
