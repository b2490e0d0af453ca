// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls: a snapshot of the network namespace's kdtls sockets and their
 * associations, from one sock-get dump (or a sock-get of one socket) and
 * an assoc-get dump per socket.
 *
 * The dumps are not atomic: a socket may go away between its sock-get and
 * its assoc-get (it is then left out), and counters move while they are
 * read.  Sockets come out by ascending sock-id, associations by address
 * and port, so that two runs print in the same order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "cli.h"

/* An association while collecting: the snapshot entry and its sort key. */
struct assoc_list {
	struct kcli_assoc *v;
	uint8_t (*key)[20];	/* family byte, address (16), port (2), pad */
	size_t n, cap;
	bool nomem;
};

struct sock_list {
	struct kcli_sock *v;
	size_t n, cap;
	bool nomem;
};

static void stats_get(struct kcli_stats *s, struct nlattr *nest)
{
	struct nlattr *a;
	int rem;

	memset(s, 0, sizeof(*s));
	if (!nest)
		return;
	nla_for_each_nested(a, nest, rem) {
		int type = nla_type(a);

		if (type <= 0 || type >= KCLI_NSTATS ||
		    nla_len(a) != sizeof(uint64_t))
			continue;	/* padding, or beyond what we keep */
		s->v[type] = nla_get_u64(a);
		s->present |= 1ULL << type;
	}
}

static void key_get(struct kcli_key *k, struct nlattr *nest)
{
	struct nlattr *kb[KDTLS_A_KEY_MAX + 1];

	memset(k, 0, sizeof(*k));
	if (!nest || nla_parse_nested(kb, KDTLS_A_KEY_MAX, nest,
				      kctl_key_policy))
		return;
	if (kb[KDTLS_A_KEY_EPOCH]) {
		k->valid = true;
		k->epoch = nla_get_u16(kb[KDTLS_A_KEY_EPOCH]);
	}
	if (kb[KDTLS_A_KEY_SEQ])
		k->seq = nla_get_u64(kb[KDTLS_A_KEY_SEQ]);
}

static uint32_t get_u32(struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

static uint16_t get_u16(struct nlattr *a)
{
	return a ? nla_get_u16(a) : 0;
}

static int sock_reply(uint8_t cmd, struct nlattr **tb, void *arg)
{
	struct sock_list *l = arg;
	struct kcli_sock *s;

	(void)cmd;
	if (!tb[KDTLS_A_SOCK_ID])
		return KCTL_EXIT_OK;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (!v) {
			l->nomem = true;
			return KCTL_EXIT_FAIL;
		}
		l->v = v;
		l->cap = cap;
	}
	s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	s->id = nla_get_u32(tb[KDTLS_A_SOCK_ID]);
	s->family = get_u16(tb[KDTLS_A_SOCK_FAMILY]);
	s->flags = get_u32(tb[KDTLS_A_SOCK_FLAGS]);
	s->max_assocs = get_u32(tb[KDTLS_A_SOCK_MAX_ASSOCS]);
	s->num_assocs = get_u32(tb[KDTLS_A_SOCK_NUM_ASSOCS]);
	s->agent_portid = get_u32(tb[KDTLS_A_SOCK_AGENT_PORTID]);
	stats_get(&s->stats, tb[KDTLS_A_SOCK_STATS]);
	return KCTL_EXIT_OK;
}

static int assoc_reply(uint8_t cmd, struct nlattr **tb, void *arg)
{
	struct assoc_list *l = arg;
	struct kcli_assoc *a;
	uint8_t *key;

	(void)cmd;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		void *k;

		if (!v) {
			l->nomem = true;
			return KCTL_EXIT_FAIL;
		}
		l->v = v;
		k = realloc(l->key, cap * sizeof(*l->key));
		if (!k) {
			l->nomem = true;
			return KCTL_EXIT_FAIL;
		}
		l->key = k;
		l->cap = cap;
	}
	a = &l->v[l->n];
	key = l->key[l->n];
	l->n++;
	memset(a, 0, sizeof(*a));
	memset(key, 0, sizeof(l->key[0]));
	if (kctl_peer_str(tb, a->peer, sizeof(a->peer)))
		strcpy(a->peer, "?");
	if (tb[KDTLS_A_PEER_ADDR4]) {
		key[0] = 4;
		memcpy(key + 1, nla_data(tb[KDTLS_A_PEER_ADDR4]), 4);
	} else if (tb[KDTLS_A_PEER_ADDR6]) {
		key[0] = 6;
		memcpy(key + 1, nla_data(tb[KDTLS_A_PEER_ADDR6]), 16);
	}
	if (tb[KDTLS_A_PEER_PORT])
		memcpy(key + 17, nla_data(tb[KDTLS_A_PEER_PORT]), 2);
	a->version = get_u16(tb[KDTLS_A_ASSOC_VERSION]);
	a->cipher = get_u16(tb[KDTLS_A_ASSOC_CIPHER]);
	a->replay_window = get_u32(tb[KDTLS_A_ASSOC_REPLAY_WINDOW]);
	a->rx_grace_ms = get_u32(tb[KDTLS_A_ASSOC_RX_GRACE_MS]);
	a->max_payload = get_u32(tb[KDTLS_A_ASSOC_MAX_PAYLOAD]);
	key_get(&a->tx, tb[KDTLS_A_ASSOC_TX]);
	key_get(&a->rx, tb[KDTLS_A_ASSOC_RX]);
	stats_get(&a->stats, tb[KDTLS_A_ASSOC_STATS]);
	return KCTL_EXIT_OK;
}

static int cmp_sock(const void *x, const void *y)
{
	const struct kcli_sock *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* Sort the associations by their key (an index sort, then a permute). */
static const struct assoc_list *sort_list;

static int cmp_idx(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;

	return memcmp(sort_list->key[i], sort_list->key[j],
		      sizeof(sort_list->key[0]));
}

static int sort_assocs(struct assoc_list *l, struct kcli_sock *s)
{
	size_t *idx;

	s->assocs = NULL;
	s->nassocs = 0;
	if (!l->n)
		return 0;
	idx = calloc(l->n, sizeof(*idx));
	s->assocs = calloc(l->n, sizeof(*s->assocs));
	if (!idx || !s->assocs) {
		free(idx);
		free(s->assocs);
		s->assocs = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++)
		idx[i] = i;
	sort_list = l;
	qsort(idx, l->n, sizeof(*idx), cmp_idx);
	for (size_t i = 0; i < l->n; i++)
		s->assocs[i] = l->v[idx[i]];
	s->nassocs = l->n;
	free(idx);
	return 0;
}

static int get_assocs(struct kcli_sock *s)
{
	struct assoc_list l = { 0 };
	struct nl_msg *msg;
	int ret;

	msg = kctl_msg_new(KDTLS_CMD_ASSOC_GET, NLM_F_DUMP);
	if (!msg)
		return KCTL_EXIT_FAIL;
	if (nla_put_u32(msg, KDTLS_A_SOCK_ID, s->id)) {
		nlmsg_free(msg);
		kctl_err("out of memory");
		return KCTL_EXIT_FAIL;
	}
	ret = kctl_request(msg, "assoc-get", assoc_reply, &l);
	if (l.nomem) {
		kctl_err("out of memory");
		ret = KCTL_EXIT_FAIL;
	}
	if (!ret && sort_assocs(&l, s)) {
		kctl_err("out of memory");
		ret = KCTL_EXIT_FAIL;
	}
	free(l.v);
	free(l.key);
	return ret;
}

/*
 * Every socket of the namespace, or (@one) the socket @id only.  Returns
 * an exit status; errors are printed (an unknown @id is the kernel's
 * "sock-get: No such file or directory: ...").
 */
int kcli_snap_get(struct kcli_snap *snap, bool one, uint32_t id)
{
	struct sock_list l = { 0 };
	struct nl_msg *msg;
	size_t i, kept = 0;
	int ret;

	memset(snap, 0, sizeof(*snap));
	msg = kctl_msg_new(KDTLS_CMD_SOCK_GET, one ? 0 : NLM_F_DUMP);
	if (!msg)
		return KCTL_EXIT_FAIL;
	if (one && nla_put_u32(msg, KDTLS_A_SOCK_ID, id)) {
		nlmsg_free(msg);
		kctl_err("out of memory");
		return KCTL_EXIT_FAIL;
	}
	ret = kctl_request(msg, "sock-get", sock_reply, &l);
	if (l.nomem) {
		kctl_err("out of memory");
		ret = KCTL_EXIT_FAIL;
	}
	if (ret) {
		free(l.v);
		return ret;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_sock);
	snap->socks = l.v;
	for (i = 0; i < l.n; i++) {
		ret = get_assocs(&l.v[i]);
		if (ret && !one) {
			/* closed since the dump: leave it out */
			continue;
		}
		if (ret) {
			snap->nsocks = kept;
			kcli_snap_free(snap);
			return ret;
		}
		l.v[kept++] = l.v[i];
	}
	snap->nsocks = kept;
	return KCTL_EXIT_OK;
}

void kcli_snap_free(struct kcli_snap *snap)
{
	for (size_t i = 0; i < snap->nsocks; i++)
		free(snap->socks[i].assocs);
	free(snap->socks);
	memset(snap, 0, sizeof(*snap));
}

bool kcli_is_drop(unsigned int stat)
{
	return stat >= KDTLS_STAT_DROP_MALFORMED &&
	       stat <= KDTLS_STAT_DROP_NOMEM;
}

uint64_t kcli_stat(const struct kcli_stats *s, unsigned int stat)
{
	return stat < KCLI_NSTATS ? s->v[stat] : 0;
}
