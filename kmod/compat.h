/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels kdtls builds for (Debian 6.1 and
 * 6.12) lives here, and only here.
 */
#ifndef _KDTLS_COMPAT_H
#define _KDTLS_COMPAT_H

#include <linux/version.h>
#include <net/inet_sock.h>

/* 6.5 removed proto::sendpage; before, it bypassed sendmsg (plaintext!). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define KDTLS_HAVE_SENDPAGE 1
#endif

/* 6.8 turned inet_sock::cmsg_flags into bits behind inet_cmsg_flags(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
static inline unsigned long kdtls_inet_cmsg_flags(const struct inet_sock *inet)
{
	return inet->cmsg_flags;
}
#else
static inline unsigned long kdtls_inet_cmsg_flags(const struct inet_sock *inet)
{
	return inet_cmsg_flags(inet);
}
#endif

/* 6.5 passes a sysctl table's size instead of ending it with a sentinel. */
#include <net/net_namespace.h>
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define kdtls_register_net_sysctl(net, path, table, n) \
	register_net_sysctl(net, path, table)
#else
#define kdtls_register_net_sysctl(net, path, table, n) \
	register_net_sysctl_sz(net, path, table, n)
#endif

/* 6.2 moved the dump request's attributes into a struct genl_info. */
#include <net/genetlink.h>
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
static inline struct nlattr **kdtls_dump_attrs(struct netlink_callback *cb)
{
	return genl_dumpit_info(cb)->attrs;
}
#else
static inline struct nlattr **kdtls_dump_attrs(struct netlink_callback *cb)
{
	return genl_info_dump(cb)->attrs;
}
#endif

#endif /* _KDTLS_COMPAT_H */
