// SPDX-License-Identifier: GPL-2.0
/*
 * Counters: per association, per socket and per network namespace, all
 * per-CPU so the data path never shares a cache line between CPUs.  The
 * namespace counters are printed in /proc/net/kdtls/stat.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sysctl.h>
#include <net/genetlink.h>
#include <net/netns/generic.h>
#include "compat.h"
#include "stats.h"

/* default for net.kdtls.max_assocs: four sockets at their own default */
#define KDTLS_NET_MAX_ASSOCS_DEFAULT	(4 * KDTLS_MAX_ASSOCS_DEFAULT)

static unsigned int kdtls_net_id __read_mostly;

static const char *const kdtls_stat_names[__KDTLS_STAT_MAX] = {
	[KDTLS_STAT_TX_RECORDS]		= "tx-records",
	[KDTLS_STAT_TX_BYTES]		= "tx-bytes",
	[KDTLS_STAT_TX_ERRORS]		= "tx-errors",
	[KDTLS_STAT_TX_NO_ASSOC]	= "tx-no-assoc",
	[KDTLS_STAT_RX_RECORDS]		= "rx-records",
	[KDTLS_STAT_RX_BYTES]		= "rx-bytes",
	[KDTLS_STAT_RX_TO_AGENT]	= "rx-to-agent",
	[KDTLS_STAT_RX_TO_APP]		= "rx-to-app",
	[KDTLS_STAT_DROP_MALFORMED]	= "drop-malformed",
	[KDTLS_STAT_DROP_VERSION]	= "drop-version",
	[KDTLS_STAT_DROP_TYPE]		= "drop-type",
	[KDTLS_STAT_DROP_EPOCH]		= "drop-epoch",
	[KDTLS_STAT_DROP_REPLAY]	= "drop-replay",
	[KDTLS_STAT_DROP_AUTH]		= "drop-auth",
	[KDTLS_STAT_DROP_TOO_BIG]	= "drop-too-big",
	[KDTLS_STAT_DROP_NO_AGENT]	= "drop-no-agent",
	[KDTLS_STAT_DROP_AGENT_BUSY]	= "drop-agent-busy",
	[KDTLS_STAT_DROP_NOMEM]		= "drop-nomem",
	[KDTLS_STAT_REKEY_TX]		= "rekey-tx",
	[KDTLS_STAT_REKEY_RX]		= "rekey-rx",
};

/**
 * kdtls_stat_name() - the name of a counter, as the netlink spec spells it
 * @i: counter
 *
 * Return: the name, or "?" for an unknown value.
 */
const char *kdtls_stat_name(enum kdtls_stat i)
{
	if (i <= KDTLS_STAT_UNSPEC || i >= __KDTLS_STAT_MAX)
		return "?";
	return kdtls_stat_names[i];
}

/**
 * kdtls_net() - kdtls's per-namespace state
 * @net: network namespace
 *
 * Return: the state, valid for the life of @net.
 */
struct kdtls_net *kdtls_net(const struct net *net)
{
	return net_generic(net, kdtls_net_id);
}

/**
 * kdtls_stats_sum() - add up the per-CPU copies of a counter set
 * @s: counters
 * @out: __KDTLS_STAT_MAX values
 */
void kdtls_stats_sum(struct kdtls_stats __percpu *s, u64 *out)
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * __KDTLS_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const struct kdtls_stats *c = per_cpu_ptr(s, cpu);

		for (i = 1; i < __KDTLS_STAT_MAX; i++)
			out[i] += READ_ONCE(c->v[i]);
	}
}

/**
 * kdtls_assoc_stats_read() - read an association's counters
 * @s: counters
 * @out: __KDTLS_STAT_MAX values
 */
void kdtls_assoc_stats_read(struct kdtls_assoc_stats *s, u64 *out)
{
	int i;

	out[0] = 0;
	for (i = 1; i < __KDTLS_STAT_MAX; i++)
		out[i] = atomic64_read(&s->v[i]);
}

/**
 * kdtls_stats_put() - put a per-CPU counter set as a nest of u64 attributes
 * @skb: message
 * @attr: nest attribute type
 * @s: counters
 *
 * Return: 0 or -EMSGSIZE.
 */
int kdtls_stats_put(struct sk_buff *skb, int attr,
		    struct kdtls_stats __percpu *s)
{
	u64 v[__KDTLS_STAT_MAX];

	kdtls_stats_sum(s, v);
	return kdtls_stats_put_values(skb, attr, v);
}

/**
 * kdtls_stats_put_values() - put counter values as a nest of u64 attributes
 * @skb: message
 * @attr: nest attribute type
 * @v: __KDTLS_STAT_MAX values
 *
 * Return: 0 or -EMSGSIZE.
 */
int kdtls_stats_put_values(struct sk_buff *skb, int attr, const u64 *v)
{
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(skb, attr);
	if (!nest)
		return -EMSGSIZE;
	for (i = 1; i < __KDTLS_STAT_MAX; i++) {
		if (nla_put_u64_64bit(skb, i, v[i], KDTLS_STAT_UNSPEC)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kdtls_stat_show(struct seq_file *seq, void *v)
{
	struct kdtls_net *kn = kdtls_net(seq_file_single_net(seq));
	u64 val[__KDTLS_STAT_MAX];
	int i;

	kdtls_stats_sum(kn->stats, val);
	for (i = 1; i < __KDTLS_STAT_MAX; i++)
		seq_printf(seq, "%-20s %llu\n", kdtls_stat_names[i], val[i]);
	return 0;
}

static unsigned int kdtls_one = 1;

/* the template; each namespace gets a copy pointing at its own limit */
static struct ctl_table kdtls_sysctl_table[] = {
	{
		.procname	= "max_assocs",
		.maxlen		= sizeof(unsigned int),
		.mode		= 0644,
		.proc_handler	= proc_douintvec_minmax,
		.extra1		= &kdtls_one,
	},
	{ }
};

static int kdtls_sysctl_init(struct net *net, struct kdtls_net *kn)
{
	struct ctl_table *t;

	t = kmemdup(kdtls_sysctl_table, sizeof(kdtls_sysctl_table),
		    GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t[0].data = &kn->max_assocs;
	kn->sysctl = kdtls_register_net_sysctl(net, "net/kdtls", t,
					       ARRAY_SIZE(kdtls_sysctl_table) - 1);
	if (!kn->sysctl) {
		kfree(t);
		return -ENOMEM;
	}
	return 0;
}

static void kdtls_sysctl_exit(struct kdtls_net *kn)
{
	const struct ctl_table *t = kn->sysctl->ctl_table_arg;

	unregister_net_sysctl_table(kn->sysctl);
	kfree(t);
}

static int __net_init kdtls_net_init(struct net *net)
{
	struct kdtls_net *kn = kdtls_net(net);

	mutex_init(&kn->lock);
	INIT_LIST_HEAD(&kn->socks);
	idr_init(&kn->ids);
	kn->max_assocs = KDTLS_NET_MAX_ASSOCS_DEFAULT;
	atomic_set(&kn->num_assocs, 0);

	kn->stats = alloc_percpu(struct kdtls_stats);
	if (!kn->stats)
		goto err;
	if (kdtls_sysctl_init(net, kn))
		goto err_free_stats;

	kn->proc_dir = proc_net_mkdir(net, "kdtls", net->proc_net);
	if (!kn->proc_dir)
		goto err_sysctl;
	if (!proc_create_net_single("stat", 0444, kn->proc_dir,
				    kdtls_stat_show, NULL))
		goto err_remove_dir;
	return 0;

err_remove_dir:
	remove_proc_subtree("kdtls", net->proc_net);
err_sysctl:
	kdtls_sysctl_exit(kn);
err_free_stats:
	free_percpu(kn->stats);
err:
	return -ENOMEM;
}

static void __net_exit kdtls_net_exit(struct net *net)
{
	struct kdtls_net *kn = kdtls_net(net);

	/*
	 * No socket can be attached here: each attached socket holds a
	 * reference on its namespace through its struct sock.
	 */
	WARN_ON_ONCE(!list_empty(&kn->socks));
	remove_proc_subtree("kdtls", net->proc_net);
	kdtls_sysctl_exit(kn);
	idr_destroy(&kn->ids);
	free_percpu(kn->stats);
}

static struct pernet_operations kdtls_net_ops = {
	.init	= kdtls_net_init,
	.exit	= kdtls_net_exit,
	.id	= &kdtls_net_id,
	.size	= sizeof(struct kdtls_net),
};

/**
 * kdtls_stats_init() - register the per-namespace state
 *
 * Return: 0 or negative errno.
 */
int kdtls_stats_init(void)
{
	return register_pernet_subsys(&kdtls_net_ops);
}

/**
 * kdtls_stats_exit() - unregister the per-namespace state
 */
void kdtls_stats_exit(void)
{
	unregister_pernet_subsys(&kdtls_net_ops);
}
