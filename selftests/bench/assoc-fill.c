// SPDX-License-Identifier: GPL-2.0
/*
 * assoc-fill -- associations in bulk for `make bench` (selftests/bench.sh):
 * the crowd a measured flow has to be found in, and the kernel memory each
 * association costs.
 *
 *   assoc-fill add --fd N --count C
 *	Add C associations (AES-128-GCM, keys made up per peer) to the
 *	attached socket on fd N, for peers 127.H.M.L:40000 that nobody
 *	listens on (H = 1 + i / 60000, M = (i / 250) % 240, L = 1 + i % 250),
 *	64 assoc-add requests in flight on one netlink socket.  Prints
 *	  added C associations in T ms; the socket holds N
 *
 *   assoc-fill mem --count C
 *	On a socket of its own (127.0.0.1, any port, attached here), measure
 *	Slab + Percpu of /proc/meminfo, add C associations as above, measure
 *	again (each time after dropping reclaimable slab caches and waiting
 *	200 ms) and print
 *	  bytes per association B slab-kb S percpu-kb P count C
 *	with S and P the two growths.  The socket closes at exit, which frees
 *	them all.
 *
 * Exit status: 0, 1 on any refusal (with the kernel's message), 2 bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/genl/genl.h>

#include "lib/kt_nl.h"

#define CIPHER		KDTLS_CIPHER_AES_128_GCM
#define PEER_PORT	40000
#define MAX_COUNT	(60000u * 200)
#define WINDOW		64	/* requests in flight */

static void die(const char *what, int err)
{
	fprintf(stderr, "assoc-fill: %s: %s%s%s\n", what, strerror(err),
		*kt_nl_extack() ? ": " : "", kt_nl_extack());
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void peer_of(unsigned int i, struct sockaddr_in *p)
{
	memset(p, 0, sizeof(*p));
	p->sin_family = AF_INET;
	p->sin_port = htons(PEER_PORT);
	p->sin_addr.s_addr = htonl(0x7f000000u | (1 + i / 60000) << 16 |
				   ((i / 250) % 240) << 8 | (1 + i % 250));
}

static struct nl_msg *build_add(int fd, unsigned int i)
{
	struct nl_msg *m = kt_msg_new(KDTLS_CMD_ASSOC_ADD, false);
	struct sockaddr_in p;
	struct kt_key tx, rx;

	if (!m)
		return NULL;
	peer_of(i, &p);
	kt_key_make(&tx, CIPHER, 1, 0, (uint8_t)i);
	kt_key_make(&rx, CIPHER, 1, 0, (uint8_t)(i >> 8));
	if (nla_put_u32(m, KDTLS_A_SOCK_FD, fd) ||
	    kt_put_peer(m, (struct sockaddr *)&p, false) ||
	    nla_put_u16(m, KDTLS_A_ASSOC_CIPHER, CIPHER) ||
	    kt_put_key(m, KDTLS_A_ASSOC_TX, &tx) ||
	    kt_put_key(m, KDTLS_A_ASSOC_RX, &rx)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* ---- pipelined assoc-add ------------------------------------------------ */

struct pipe_state {
	unsigned int acked;
	int first_err;
	char extack[256];
};

static int pipe_ack(struct nl_msg *msg, void *arg)
{
	struct pipe_state *p = arg;

	(void)msg;
	p->acked++;
	return NL_OK;
}

static int pipe_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct pipe_state *p = arg;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	(void)nla;
	p->acked++;
	if (!e->error || p->first_err)
		return NL_SKIP;
	p->first_err = e->error;
	/* the extack message, when the kernel sent one */
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    !nla_parse(tb, NLMSGERR_ATTR_MAX,
		       (struct nlattr *)((char *)e + sizeof(*e)),
		       nlh->nlmsg_len - NLMSG_HDRLEN - sizeof(*e), NULL) &&
	    tb[NLMSGERR_ATTR_MSG])
		snprintf(p->extack, sizeof(p->extack), ": %s",
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_SKIP;
}

static int pipe_noseq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static void add_all(int fd, unsigned int count)
{
	struct nl_sock *sk = kt_nl_sock_new();
	struct pipe_state ps = { 0 };
	unsigned int sent = 0;
	struct nl_cb *cb;
	int err, sz = 4 << 20;

	if (!sk)
		die("netlink socket (is kdtls.ko loaded?)", ENOENT);
	nl_socket_disable_seq_check(sk);
	/* room for every ack in flight */
	if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUFFORCE, &sz,
		       sizeof(sz)))
		die("SO_RCVBUFFORCE on the netlink socket", errno);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		die("nl_cb_alloc", ENOMEM);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, pipe_noseq, NULL);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, pipe_ack, &ps);
	nl_cb_err(cb, NL_CB_CUSTOM, pipe_err, &ps);
	while (ps.acked < count) {
		while (sent < count && sent - ps.acked < WINDOW) {
			struct nl_msg *m = build_add(fd, sent);

			if (!m)
				die("building assoc-add", ENOMEM);
			err = nl_send_auto(sk, m);
			nlmsg_free(m);
			if (err < 0) {
				fprintf(stderr, "assoc-fill: nl_send_auto: %s\n",
					nl_geterror(err));
				exit(1);
			}
			sent++;
		}
		err = nl_recvmsgs(sk, cb);
		if (err < 0) {
			fprintf(stderr, "assoc-fill: nl_recvmsgs: %s after %u acks\n",
				nl_geterror(err), ps.acked);
			exit(1);
		}
		if (ps.first_err) {
			fprintf(stderr, "assoc-fill: assoc-add: %s%s (after %u)\n",
				strerror(-ps.first_err), ps.extack, ps.acked);
			exit(1);
		}
	}
	nl_cb_put(cb);
	nl_socket_free(sk);
}

/* ---- memory ---------------------------------------------------------- */

static long meminfo_kb(const char *key)
{
	size_t kl = strlen(key);
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo", errno);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	if (v < 0) {
		fprintf(stderr, "assoc-fill: no %s in /proc/meminfo\n", key);
		exit(1);
	}
	return v;
}

/* Slab and Percpu, in kB, once reclaimable slab caches are dropped */
static void kmem_kb(long *slab, long *percpu)
{
	FILE *f = fopen("/proc/sys/vm/drop_caches", "w");

	if (!f || fputs("2\n", f) < 0 || fclose(f))
		die("/proc/sys/vm/drop_caches (run as root)", errno);
	poll(NULL, 0, 200);
	*slab = meminfo_kb("Slab");
	*percpu = meminfo_kb("Percpu");
}

static int cmd_mem(unsigned int count)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	long s0, p0, s1, p1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		die("UDP socket on 127.0.0.1", errno);
	err = kt_attach(fd, 0, NULL);
	if (err)
		die("sock-attach", -err);
	kmem_kb(&s0, &p0);
	add_all(fd, count);
	kmem_kb(&s1, &p1);
	printf("bytes per association %ld slab-kb %ld percpu-kb %ld count %u\n",
	       (s1 - s0 + p1 - p0) * 1024 / (long)count, s1 - s0, p1 - p0,
	       count);
	close(fd);
	return 0;
}

static int cmd_add(int fd, unsigned int count)
{
	struct kt_sock_info si;
	double t0 = now_ms();
	int err;

	add_all(fd, count);
	t0 = now_ms() - t0;
	err = kt_sock_get(fd, &si);
	if (err)
		die("sock-get", -err);
	printf("added %u associations in %.0f ms; the socket holds %u\n",
	       count, t0, si.num_assocs);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
"usage: assoc-fill add --fd N --count C\n"
"       assoc-fill mem --count C\n");
	exit(2);
}

static long parse_count(const char *name, const char *arg, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v < 0 || v > max) {
		fprintf(stderr, "assoc-fill: %s: 0..%ld, not '%s'\n", name, max,
			arg);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "fd",		required_argument, NULL, 'f' },
		{ "count",	required_argument, NULL, 'c' },
		{ }
	};
	long fd = -1, count = -1;
	int opt, err;
	bool add;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "add"))
		add = true;
	else if (!strcmp(argv[1], "mem"))
		add = false;
	else
		usage();
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'f': fd = parse_count("--fd", optarg, 1 << 20); break;
		case 'c': count = parse_count("--count", optarg, MAX_COUNT); break;
		default: usage();
		}
	}
	if (optind != argc || count < 1 || (add && fd < 0) || (!add && fd >= 0))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	err = kt_nl_init();
	if (err)
		die("the kdtls netlink family (is kdtls.ko loaded?)", -err);
	return add ? cmd_add(fd, count) : cmd_mem(count);
}
