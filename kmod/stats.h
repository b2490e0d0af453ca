/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KDTLS_STATS_H
#define _KDTLS_STATS_H

#include <linux/percpu.h>
#include <linux/kdtls.h>
#include <net/net_namespace.h>

/* Per-CPU counters indexed by enum kdtls_stat. */
struct kdtls_stats {
	u64 v[__KDTLS_STAT_MAX];
};

/*
 * One per network namespace: the namespace-wide counters behind
 * /proc/net/kdtls/stat, the association limit (sysctl net.kdtls.max_assocs)
 * and the attached sockets (for sock-get dumps and sock-id lookups).
 */
struct kdtls_net {
	struct kdtls_stats __percpu *stats;
	struct proc_dir_entry *proc_dir;
	struct ctl_table_header *sysctl;
	unsigned int max_assocs;	/* sysctl; all sockets together */
	atomic_t num_assocs;
	struct mutex lock;		/* protects socks and ids */
	struct list_head socks;
	struct idr ids;
};

/*
 * One association's counters.  The CPUs that serve a peer share them (a
 * flow is usually handled on one), so they are plain atomics, as ovpn's
 * per-peer counters are: per-CPU copies would cost their size times the
 * number of CPUs for every association (10 KiB each on a 64-CPU server).
 */
struct kdtls_assoc_stats {
	atomic64_t v[__KDTLS_STAT_MAX];
};

struct kdtls_net *kdtls_net(const struct net *net);

static inline void kdtls_stat_add(struct kdtls_stats __percpu *s,
				  enum kdtls_stat i, u64 n)
{
	if (s)
		this_cpu_add(s->v[i], n);
}

static inline void kdtls_assoc_stat_add(struct kdtls_assoc_stats *s,
					enum kdtls_stat i, u64 n)
{
	atomic64_add(n, &s->v[i]);
}

void kdtls_stats_sum(struct kdtls_stats __percpu *s, u64 *out);
void kdtls_assoc_stats_read(struct kdtls_assoc_stats *s, u64 *out);
int kdtls_stats_put(struct sk_buff *skb, int attr,
		    struct kdtls_stats __percpu *s);
int kdtls_stats_put_values(struct sk_buff *skb, int attr, const u64 *v);
const char *kdtls_stat_name(enum kdtls_stat i);

int kdtls_stats_init(void);
void kdtls_stats_exit(void);

#endif /* _KDTLS_STATS_H */
