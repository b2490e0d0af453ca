// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls: the DTLS 1.2 record layer for UDP sockets.
 *
 * A handshake agent in userspace (kdtlsd) negotiates keys with OpenSSL and
 * installs them over the "kdtls" generic netlink family; from then on the
 * kernel seals and opens every datagram of the attached socket.  See
 * Documentation/kdtls.rst.
 *
 * This file is the init/exit ladder only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/kdtls.h>
#include "crypto.h"
#include "netlink.h"
#include "sock.h"
#include "stats.h"

static int __init kdtls_init(void)
{
	int err;

	err = kdtls_crypto_init();
	if (err)
		goto err;
	err = kdtls_stats_init();
	if (err)
		goto err_crypto;
	err = kdtls_sock_init();
	if (err)
		goto err_stats;
	err = kdtls_nl_init();
	if (err)
		goto err_sock;

	pr_info("DTLS 1.2 record layer loaded\n");
	return 0;

err_sock:
	kdtls_sock_exit();
err_stats:
	kdtls_stats_exit();
err_crypto:
	kdtls_crypto_exit();
err:
	return err;
}

static void __exit kdtls_exit(void)
{
	/* no socket is attached: each one holds a module reference */
	kdtls_nl_exit();
	kdtls_sock_exit();
	kdtls_stats_exit();
	kdtls_crypto_exit();
}

module_init(kdtls_init);
module_exit(kdtls_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kdtls developers");
MODULE_DESCRIPTION("DTLS 1.2 record layer for UDP sockets");
MODULE_VERSION("0.1");
MODULE_ALIAS_GENL_FAMILY(KDTLS_GENL_NAME);
