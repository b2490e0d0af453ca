// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls: the snapshot as text.
 *
 * `show` prints one block per socket, then one per association, the way
 * `wg show` prints an interface and its peers:
 *
 *	socket: 1
 *	  family: IPv4
 *	  agent: kdtlsd[212] (netlink port 212)
 *	  associations: 2 (limit 262144)
 *	  transfer: 1.25 KiB received, 2.50 KiB sent
 *	  records: 20 received, 20 sent
 *	  drops: 3 auth, 1 replay
 *
 *	peer: 127.0.0.1:40001
 *	  cipher: aes-128-gcm, DTLS 1.2
 *	  tx: epoch 1, next seq 21
 *	  rx: epoch 1, seq floor 0, replay window 64
 *	  transfer: 640 B received, 1.25 KiB sent
 *	  records: 10 received, 10 sent
 *
 * Lines whose counters are all zero (drops, errors, rekeys, records that
 * went to the agent) are left out unless verbose; "drops" lists only the
 * reasons that happened.  Field lists (`show ID FIELD`) are for scripts:
 * one line per item, tab-separated, prefixed with the sock-id when more
 * than one socket is shown, like `wg show all FIELD`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"

/* "1.25 KiB": binary units, two decimals, as wg prints transfer. */
const char *kcli_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	double v = n;
	unsigned int u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && u < sizeof(units) / sizeof(units[0]) - 1) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.2f %s", v, units[u]);
	return buf;
}

/* "auth" for drop-auth: the reason without its prefix. */
const char *kcli_drop_name(unsigned int stat)
{
	const char *name = kctl_stat_name(stat);

	if (name && !strncmp(name, "drop-", 5))
		return name + 5;
	return name;
}

static const char *version_name(uint16_t v, char *buf, size_t len)
{
	if (v == KDTLS_VERSION_1_2)
		return "DTLS 1.2";
	snprintf(buf, len, "version 0x%04x", v);
	return buf;
}

static const char *cipher_name(uint16_t c, char *buf, size_t len)
{
	const char *name = kctl_cipher_name(c);

	if (name)
		return name;
	snprintf(buf, len, "cipher %u", c);
	return buf;
}

/* "3 auth, 1 replay": the reasons that happened (all of them if verbose). */
static void print_drops(const struct kcli_stats *s, bool verbose)
{
	const char *sep = "";

	for (unsigned int i = 0; i < KCLI_NSTATS; i++) {
		if (!kcli_is_drop(i) || !(s->present & (1ULL << i)))
			continue;
		if (!s->v[i] && !verbose)
			continue;
		printf("%s%" PRIu64 " %s", sep, s->v[i], kcli_drop_name(i));
		sep = ", ";
	}
	putchar('\n');
}

/* The counters both sockets and associations have. */
static void print_counters(const struct kcli_stats *s, const char *ind,
			   bool verbose)
{
	char rx[32], tx[32];
	uint64_t drops = 0;

	printf("%stransfer: %s received, %s sent\n", ind,
	       kcli_bytes(kcli_stat(s, KDTLS_STAT_RX_BYTES), rx, sizeof(rx)),
	       kcli_bytes(kcli_stat(s, KDTLS_STAT_TX_BYTES), tx, sizeof(tx)));
	printf("%srecords: %" PRIu64 " received, %" PRIu64 " sent\n", ind,
	       kcli_stat(s, KDTLS_STAT_RX_RECORDS),
	       kcli_stat(s, KDTLS_STAT_TX_RECORDS));
	if (verbose || kcli_stat(s, KDTLS_STAT_RX_TO_AGENT) ||
	    kcli_stat(s, KDTLS_STAT_RX_TO_APP))
		printf("%shandshake datagrams: %" PRIu64 " to the agent, %"
		       PRIu64 " to the application\n", ind,
		       kcli_stat(s, KDTLS_STAT_RX_TO_AGENT),
		       kcli_stat(s, KDTLS_STAT_RX_TO_APP));
	if (verbose || kcli_stat(s, KDTLS_STAT_TX_ERRORS) ||
	    kcli_stat(s, KDTLS_STAT_TX_NO_ASSOC))
		printf("%ssend errors: %" PRIu64 " failed, %" PRIu64
		       " without association\n", ind,
		       kcli_stat(s, KDTLS_STAT_TX_ERRORS),
		       kcli_stat(s, KDTLS_STAT_TX_NO_ASSOC));
	if (verbose || kcli_stat(s, KDTLS_STAT_REKEY_TX) ||
	    kcli_stat(s, KDTLS_STAT_REKEY_RX))
		printf("%srekeys: %" PRIu64 " tx, %" PRIu64 " rx\n", ind,
		       kcli_stat(s, KDTLS_STAT_REKEY_TX),
		       kcli_stat(s, KDTLS_STAT_REKEY_RX));
	for (unsigned int i = 0; i < KCLI_NSTATS; i++)
		if (kcli_is_drop(i))
			drops += s->v[i];
	if (drops || verbose) {
		printf("%sdrops: ", ind);
		print_drops(s, verbose);
	}
	/* counters newer than this tool: by number, so nothing is hidden */
	for (unsigned int i = KDTLS_STAT_MAX + 1; i < KCLI_NSTATS; i++)
		if ((s->present & (1ULL << i)) && (s->v[i] || verbose))
			printf("%sstat-%u: %" PRIu64 "\n", ind, i, s->v[i]);
}

static void print_sock(const struct kcli_sock *s, bool verbose)
{
	char owner[64];

	printf("socket: %u\n", s->id);
	printf("  family: %s\n", s->family == AF_INET ? "IPv4" :
				 s->family == AF_INET6 ? "IPv6" : "?");
	if (!s->agent_portid)
		printf("  agent: none (handshake records go to the "
		       "application)\n");
	else if (!kcli_netlink_owner(s->agent_portid, owner, sizeof(owner)))
		printf("  agent: %s (netlink port %u)\n", owner,
		       s->agent_portid);
	else
		printf("  agent: netlink port %u\n", s->agent_portid);
	printf("  associations: %u (limit %u)\n", s->num_assocs,
	       s->max_assocs);
	print_counters(&s->stats, "  ", verbose);
}

static void print_assoc(const struct kcli_assoc *a, bool verbose)
{
	char vbuf[32], cbuf[32];

	printf("peer: %s\n", a->peer);
	printf("  cipher: %s, %s\n", cipher_name(a->cipher, cbuf, sizeof(cbuf)),
	       version_name(a->version, vbuf, sizeof(vbuf)));
	if (a->tx.valid)
		printf("  tx: epoch %u, next seq %" PRIu64 "\n", a->tx.epoch,
		       a->tx.seq);
	else
		printf("  tx: no key\n");
	if (a->rx.valid)
		printf("  rx: epoch %u, next expected seq %" PRIu64
		       ", replay window %u\n", a->rx.epoch, a->rx.seq,
		       a->replay_window);
	else
		printf("  rx: no key\n");
	if (verbose)
		printf("  limits: %u B payload, old rx epoch kept %u ms\n",
		       a->max_payload, a->rx_grace_ms);
	print_counters(&a->stats, "  ", verbose);
}

void kcli_text_show(const struct kcli_snap *snap, bool verbose)
{
	for (size_t i = 0; i < snap->nsocks; i++) {
		const struct kcli_sock *s = &snap->socks[i];

		if (i)
			putchar('\n');
		print_sock(s, verbose);
		for (size_t j = 0; j < s->nassocs; j++) {
			putchar('\n');
			print_assoc(&s->assocs[j], verbose);
		}
	}
}

static void prefix_id(const struct kcli_sock *s, bool prefix)
{
	if (prefix)
		printf("%u\t", s->id);
}

/* Every counter of one scope ("socket" or a peer), one per line. */
static void field_stats(const struct kcli_sock *s, bool prefix,
			const char *scope, const struct kcli_stats *st,
			bool drops_only)
{
	for (unsigned int i = 0; i < KCLI_NSTATS; i++) {
		const char *name = kctl_stat_name(i);
		char num[16];

		if (!(st->present & (1ULL << i)))
			continue;
		if (drops_only && (!kcli_is_drop(i) || !st->v[i]))
			continue;
		if (!name) {
			snprintf(num, sizeof(num), "stat-%u", i);
			name = num;
		}
		prefix_id(s, prefix);
		printf("%s\t%s\t%" PRIu64 "\n", scope,
		       drops_only ? kcli_drop_name(i) : name, st->v[i]);
	}
}

static void field_assoc(const struct kcli_sock *s, const struct kcli_assoc *a,
			enum kcli_field field, bool prefix)
{
	char buf[32];

	switch (field) {
	case KCLI_PEERS:
		prefix_id(s, prefix);
		printf("%s\n", a->peer);
		break;
	case KCLI_CIPHERS:
		prefix_id(s, prefix);
		printf("%s\t%s\n", a->peer,
		       cipher_name(a->cipher, buf, sizeof(buf)));
		break;
	case KCLI_EPOCHS:
		prefix_id(s, prefix);
		printf("%s\t%u\t%" PRIu64 "\t%u\t%" PRIu64 "\n", a->peer,
		       a->tx.epoch, a->tx.seq, a->rx.epoch, a->rx.seq);
		break;
	case KCLI_TRANSFER:
		prefix_id(s, prefix);
		printf("%s\t%" PRIu64 "\t%" PRIu64 "\n", a->peer,
		       kcli_stat(&a->stats, KDTLS_STAT_RX_BYTES),
		       kcli_stat(&a->stats, KDTLS_STAT_TX_BYTES));
		break;
	case KCLI_DROPS:
	case KCLI_STATS:
		field_stats(s, prefix, a->peer, &a->stats,
			    field == KCLI_DROPS);
		break;
	default:
		break;
	}
}

/* One field list; @prefix: start each line with the sock-id. */
int kcli_text_field(const struct kcli_snap *snap, enum kcli_field field,
		    bool prefix)
{
	for (size_t i = 0; i < snap->nsocks; i++) {
		const struct kcli_sock *s = &snap->socks[i];

		if (field == KCLI_SOCKETS) {
			printf("%u\n", s->id);
			continue;
		}
		if (field == KCLI_DROPS || field == KCLI_STATS)
			field_stats(s, prefix, "socket", &s->stats,
				    field == KCLI_DROPS);
		for (size_t j = 0; j < s->nassocs; j++)
			field_assoc(s, &s->assocs[j], field, prefix);
	}
	return KCTL_EXIT_OK;
}
