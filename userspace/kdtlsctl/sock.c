// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsctl: socket, attach, detach.
 *
 * kdtls names a UDP socket by a file descriptor in the caller's own fd
 * table, so kdtlsctl must hold the socket.  "socket" creates one on a
 * chosen fd (3 by default) and execs a command that inherits it: a shell,
 * further kdtlsctl commands, or the application itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kdtlsctl.h"

enum {
	OPT_FAMILY = 256,
	OPT_BIND,
	OPT_CONNECT,
	OPT_FD,
	OPT_AGENT,
	OPT_MAX_ASSOCS,
	OPT_FLAGS,
	OPT_GRO,
	OPT_NO_GRO,
};

static int sockaddr_str(const struct sockaddr_storage *ss, char *buf,
			size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(buf, len, "%s:%u", addr, ntohs(sin->sin_port));
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, len, "[%s]:%u", addr, ntohs(sin6->sin6_port));
		return 0;
	}
	return -1;
}

int cmd_socket(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "family",	required_argument, NULL, OPT_FAMILY },
		{ "bind",	required_argument, NULL, OPT_BIND },
		{ "connect",	required_argument, NULL, OPT_CONNECT },
		{ "fd",		required_argument, NULL, OPT_FD },
		{ }
	};
	const char *bind_arg = NULL, *connect_arg = NULL;
	struct sockaddr_storage local = { }, remote;
	socklen_t llen = 0, rlen = 0;
	uint32_t fd = 3, fam;
	char buf[INET6_ADDRSTRLEN + 16];
	int family = 0, s, opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FAMILY:
			if (kctl_parse_u32(optarg, &fam) ||
			    (fam != 4 && fam != 6))
				return kctl_usage("--family: 4 or 6");
			family = fam == 4 ? AF_INET : AF_INET6;
			break;
		case OPT_BIND:
			bind_arg = optarg;
			break;
		case OPT_CONNECT:
			connect_arg = optarg;
			break;
		case OPT_FD:
			if (kctl_parse_u32(optarg, &fd) || fd > INT32_MAX)
				return kctl_usage("--fd: bad number");
			break;
		default:
			return kctl_opt_err(argv, opt);
		}
	}
	if (optind >= argc)
		return kctl_usage("missing command after --");
	if (bind_arg) {
		if (kctl_parse_sockaddr(bind_arg, family, &local, &llen))
			return kctl_usage("--bind: bad address: %s", bind_arg);
		family = local.ss_family;
	} else if (!family) {
		return kctl_usage("--family or --bind needed");
	}
	if (connect_arg &&
	    kctl_parse_sockaddr(connect_arg, family, &remote, &rlen))
		return kctl_usage("--connect: bad address: %s", connect_arg);

	s = socket(family, SOCK_DGRAM, 0);
	if (s < 0) {
		kctl_err("socket: socket: %s", strerror(errno));
		return KCTL_EXIT_FAIL;
	}
	if (llen && bind(s, (struct sockaddr *)&local, llen)) {
		kctl_err("socket: bind %s: %s", bind_arg, strerror(errno));
		return KCTL_EXIT_FAIL;
	}
	if (rlen && connect(s, (struct sockaddr *)&remote, rlen)) {
		kctl_err("socket: connect %s: %s", connect_arg,
			 strerror(errno));
		return KCTL_EXIT_FAIL;
	}
	if ((uint32_t)s != fd) {
		if (dup2(s, fd) < 0) {
			kctl_err("socket: dup2: %s", strerror(errno));
			return KCTL_EXIT_FAIL;
		}
		close(s);
	}
	/* Tell the command where the socket is and what it is bound to. */
	snprintf(buf, sizeof(buf), "%u", fd);
	setenv("KDTLSCTL_FD", buf, 1);
	llen = sizeof(local);
	if (!getsockname(fd, (struct sockaddr *)&local, &llen) &&
	    !sockaddr_str(&local, buf, sizeof(buf)))
		setenv("KDTLSCTL_LOCAL", buf, 1);

	fflush(stdout);
	execvp(argv[optind], argv + optind);
	kctl_err("socket: exec %s: %s", argv[optind], strerror(errno));
	return 127;
}

static int attach_reply(uint8_t cmd, struct nlattr **tb, void *arg)
{
	(void)cmd;
	(void)arg;
	if (!tb[KDTLS_A_SOCK_ID]) {
		kctl_err("sock-attach: reply without sock-id");
		return KCTL_EXIT_FAIL;
	}
	printf("sock-id %u\n", nla_get_u32(tb[KDTLS_A_SOCK_ID]));
	fflush(stdout);
	return KCTL_EXIT_OK;
}

int kctl_attach(uint32_t fd, uint32_t flags, bool has_max, uint32_t max,
		int gro)
{
	struct nl_msg *msg = kctl_msg_new(KDTLS_CMD_SOCK_ATTACH, 0);

	if (!msg)
		return KCTL_EXIT_FAIL;
	if (nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    (flags && nla_put_u32(msg, KDTLS_A_SOCK_FLAGS, flags)) ||
	    (gro >= 0 && nla_put_u8(msg, KDTLS_A_SOCK_GRO, gro)) ||
	    (has_max && nla_put_u32(msg, KDTLS_A_SOCK_MAX_ASSOCS, max))) {
		nlmsg_free(msg);
		kctl_err("sock-attach: message too long");
		return KCTL_EXIT_FAIL;
	}
	return kctl_request(msg, "sock-attach", attach_reply, NULL);
}

/*
 * the options of attach and set: --fd, --agent, --max-assocs, --flags,
 * --gro and --no-gro (*@gro 1 and 0; -1 without either)
 */
static int sock_opts(int argc, char **argv, uint32_t *fd, uint32_t *flags,
		     bool *has_max, uint32_t *max, int *gro)
{
	static const struct option opts[] = {
		{ "fd",		required_argument, NULL, OPT_FD },
		{ "agent",	no_argument,	   NULL, OPT_AGENT },
		{ "max-assocs",	required_argument, NULL,
		  OPT_MAX_ASSOCS },
		{ "flags",	required_argument, NULL, OPT_FLAGS },
		{ "gro",	no_argument,	   NULL, OPT_GRO },
		{ "no-gro",	no_argument,	   NULL, OPT_NO_GRO },
		{ }
	};
	bool has_fd = false;
	uint32_t raw;
	int opt;

	*flags = 0;
	*has_max = false;
	*gro = -1;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FD:
			if (kctl_parse_u32(optarg, fd))
				return kctl_usage("--fd: bad number");
			has_fd = true;
			break;
		case OPT_AGENT:
			*flags |= KDTLS_SOCK_F_AGENT;
			break;
		case OPT_MAX_ASSOCS:
			if (kctl_parse_u32(optarg, max))
				return kctl_usage("--max-assocs: bad number");
			*has_max = true;
			break;
		case OPT_FLAGS:
			if (kctl_parse_u32(optarg, &raw))
				return kctl_usage("--flags: bad number");
			*flags |= raw;
			break;
		case OPT_GRO:
		case OPT_NO_GRO:
			*gro = opt == OPT_GRO;
			break;
		default:
			return kctl_opt_err(argv, opt);
		}
	}
	if (optind < argc)
		return kctl_usage("unexpected argument: %s", argv[optind]);
	if (!has_fd)
		return kctl_usage("--fd needed");
	return KCTL_EXIT_OK;
}

int cmd_attach(int argc, char **argv)
{
	uint32_t fd = 0, flags, max = 0;
	bool has_max;
	int ret, gro;

	ret = sock_opts(argc, argv, &fd, &flags, &has_max, &max, &gro);
	if (ret != KCTL_EXIT_OK)
		return ret;
	return kctl_attach(fd, flags, has_max, max, gro);
}

int cmd_set(int argc, char **argv)
{
	uint32_t fd = 0, flags, max = 0;
	struct nl_msg *msg;
	bool has_max;
	int ret, gro;

	ret = sock_opts(argc, argv, &fd, &flags, &has_max, &max, &gro);
	if (ret != KCTL_EXIT_OK)
		return ret;
	msg = kctl_msg_new(KDTLS_CMD_SOCK_SET, 0);
	if (!msg)
		return KCTL_EXIT_FAIL;
	if (nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    nla_put_u32(msg, KDTLS_A_SOCK_FLAGS, flags) ||
	    (has_max && nla_put_u32(msg, KDTLS_A_SOCK_MAX_ASSOCS, max)) ||
	    (gro >= 0 && nla_put_u8(msg, KDTLS_A_SOCK_GRO, gro))) {
		nlmsg_free(msg);
		kctl_err("sock-set: message too long");
		return KCTL_EXIT_FAIL;
	}
	return kctl_request(msg, "sock-set", NULL, NULL);
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd",		required_argument, NULL, OPT_FD },
		{ }
	};
	struct nl_msg *msg;
	bool has_fd = false;
	uint32_t fd = 0;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FD:
			if (kctl_parse_u32(optarg, &fd))
				return kctl_usage("--fd: bad number");
			has_fd = true;
			break;
		default:
			return kctl_opt_err(argv, opt);
		}
	}
	if (optind < argc)
		return kctl_usage("unexpected argument: %s", argv[optind]);
	if (!has_fd)
		return kctl_usage("--fd needed");
	msg = kctl_msg_new(KDTLS_CMD_SOCK_DETACH, 0);
	if (!msg)
		return KCTL_EXIT_FAIL;
	if (nla_put_u32(msg, KDTLS_A_SOCK_FD, fd)) {
		nlmsg_free(msg);
		return KCTL_EXIT_FAIL;
	}
	return kctl_request(msg, "sock-detach", NULL, NULL);
}
