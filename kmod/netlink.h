/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KDTLS_NETLINK_H
#define _KDTLS_NETLINK_H

#include <linux/kdtls.h>
#include "record.h"

struct kdtls_sock;
struct kdtls_peer;
struct sk_buff;

int kdtls_nl_record(struct kdtls_sock *ks, u32 portid,
		    const struct kdtls_peer *peer, u8 type, const u8 *data,
		    size_t len, const struct kdtls_hdr *opened, gfp_t gfp);
enum kdtls_stat kdtls_nl_record_skb(struct kdtls_sock *ks, u32 portid,
				    const struct kdtls_peer *peer,
				    struct sk_buff *skb, int offset,
				    bool has_assoc, const u16 *epochs,
				    unsigned int n_epochs);
void kdtls_nl_sock_detached(struct kdtls_sock *ks);

int kdtls_nl_init(void);
void kdtls_nl_exit(void);

#endif /* _KDTLS_NETLINK_H */
