// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle of attached sockets: spurious poll wakeups, detach and close
 * with records queued, per-namespace statistics, a concurrency smoke test
 * (data, rekeys and association churn at once), and module unload/reload.
 *
 * module_unload_and_reload must stay the last test of this file: it
 * unloads kdtls.ko and loads $KDTLS_VM_MODULE again (its teardown reloads
 * the module whatever happened, so later binaries still find it).
 */
#include "harness.h"

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/kt_evp.h"
#include "lib/kt_nl.h"
#include "lib/kt_udp.h"
#include "lib/kt_util.h"

#define SA(s)	((struct sockaddr *)&(s)->addr)
#define CIPHER	KDTLS_CIPHER_AES_128_GCM

static void need_root(void)
{
	if (geteuid() != 0)
		SKIP("needs root (CAP_NET_ADMIN) and kdtls.ko: run in the VM");
}

static int seal_to(int from_fd, const struct kt_key *k, uint8_t type,
		   uint16_t epoch, uint64_t seq, const void *pt, size_t len,
		   struct kt_sock *to, uint8_t *rec, size_t cap, bool flip)
{
	struct kt_rec h = { .type = type, .epoch = epoch, .seq = seq };
	int n = kt_evp_seal(CIPHER, k->key, k->salt, &h, pt, len, rec, cap);

	if (n < 0)
		return n;
	if (flip)
		rec[n - 1] ^= 0x01;
	if (sendto(from_fd, rec, n, 0, SA(to), to->alen) != n)
		return -1;
	return n;
}

/* B attached with an association for R (plain UDP) */
struct br {
	struct kt_sock b, r;
	struct kt_key kbr, krb;
};

static void br_setup(struct br *x)
{
	ASSERT_EQ(kt_nl_init(), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &x->b), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &x->r), 0);
	ASSERT_EQ(kt_attach(x->b.fd, 0, NULL), 0);
	kt_key_make(&x->kbr, CIPHER, 1, 0, 41);
	kt_key_make(&x->krb, CIPHER, 1, 0, 42);
	ASSERT_EQ(kt_assoc_add(x->b.fd, SA(&x->r), CIPHER, &x->kbr, &x->krb,
			       0), 0);
}

/* ---- poll and spurious wakeups ---- */

TEST(poll_bad_record_is_a_spurious_wakeup)
{
	uint64_t st[KDTLS_STAT_MAX + 1];
	struct timeval tv = { 0, 300 * 1000 };
	struct pollfd p;
	struct br x;
	uint8_t rec[128], buf[128];
	uint64_t t0, took;
	ssize_t r;
	int pr;

	need_root();
	br_setup(&x);

	ASSERT_GT(seal_to(x.r.fd, &x.krb, 23, 1, 0, "bad", 3, &x.b, rec,
			  sizeof(rec), true), 0);
	p = (struct pollfd){ .fd = x.b.fd, .events = POLLIN };
	pr = poll(&p, 1, 2000);
	TH_LOG("poll with one bad record queued: %d, revents %#x", pr,
	       p.revents);
	ASSERT_GE(pr, 0);
	/* POLLIN is allowed (documented); the read must then say EAGAIN */
	ASSERT_EQ(kt_recv_nb(x.b.fd, buf, sizeof(buf)), -EAGAIN);
	ASSERT_EQ(kt_sock_get_stats(x.b.fd, st), 0);
	EXPECT_EQ(st[KDTLS_STAT_DROP_AUTH], 1);
	/* the record is gone: no more wakeup */
	p.revents = 0;
	EXPECT_EQ(poll(&p, 1, 0), 0);

	/* blocking read with SO_RCVTIMEO and only a bad record: times out */
	ASSERT_EQ(setsockopt(x.b.fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			     sizeof(tv)), 0);
	ASSERT_GT(seal_to(x.r.fd, &x.krb, 23, 1, 1, "bad", 3, &x.b, rec,
			  sizeof(rec), true), 0);
	t0 = kt_now_ms();
	errno = 0;
	r = recv(x.b.fd, buf, sizeof(buf), 0);
	took = kt_now_ms() - t0;
	TH_LOG("blocking recv: %zd (%s) after %llu ms", r, strerror(errno),
	       (unsigned long long)took);
	EXPECT_EQ(r, -1);
	EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
	EXPECT_GE(took, 250);
	EXPECT_LT(took, 5000);
	ASSERT_EQ(kt_sock_get_stats(x.b.fd, st), 0);
	EXPECT_EQ(st[KDTLS_STAT_DROP_AUTH], 2);

	/* bad then good: a blocking read returns the good one */
	tv.tv_sec = 5;
	tv.tv_usec = 0;
	ASSERT_EQ(setsockopt(x.b.fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			     sizeof(tv)), 0);
	ASSERT_GT(seal_to(x.r.fd, &x.krb, 23, 1, 2, "bad", 3, &x.b, rec,
			  sizeof(rec), true), 0);
	ASSERT_GT(seal_to(x.r.fd, &x.krb, 23, 1, 3, "good", 4, &x.b, rec,
			  sizeof(rec), false), 0);
	ASSERT_EQ(recv(x.b.fd, buf, sizeof(buf), 0), 4);
	ASSERT_MEMEQ(buf, "good", 4);
	ASSERT_EQ(kt_sock_get_stats(x.b.fd, st), 0);
	EXPECT_EQ(st[KDTLS_STAT_DROP_AUTH], 3);
	EXPECT_EQ(st[KDTLS_STAT_RX_RECORDS], 1);

	/* a blocking read that starts before the records arrive */
	{
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			uint8_t r2[128];

			poll(NULL, 0, 200);
			seal_to(x.r.fd, &x.krb, 23, 1, 4, "bad", 3, &x.b, r2,
				sizeof(r2), true);
			poll(NULL, 0, 100);
			seal_to(x.r.fd, &x.krb, 23, 1, 5, "late", 4, &x.b,
				r2, sizeof(r2), false);
			_exit(0);
		}
		ASSERT_EQ(recv(x.b.fd, buf, sizeof(buf), 0), 4);
		EXPECT_MEMEQ(buf, "late", 4);
		waitpid(pid, NULL, 0);
	}
	close(x.b.fd);
	close(x.r.fd);
}

/* ---- detach and close with records queued ---- */

TEST(detach_leaves_queued_records_as_ciphertext)
{
	uint8_t rec1[128], rec2[128], buf[256];
	int n1, n2, i, inq = 0;
	struct kt_sock_info si;
	struct br x;

	need_root();
	br_setup(&x);
	n1 = seal_to(x.r.fd, &x.krb, 23, 1, 0, "first", 5, &x.b, rec1,
		     sizeof(rec1), false);
	n2 = seal_to(x.r.fd, &x.krb, 23, 1, 1, "second", 6, &x.b, rec2,
		     sizeof(rec2), false);
	ASSERT_GT(n1, 0);
	ASSERT_GT(n2, 0);
	/* both queued (loopback delivers in the sender's softirq) */
	for (i = 0; i < 100 && inq <= 0; i++) {
		ASSERT_EQ(ioctl(x.b.fd, FIONREAD, &inq), 0);
		poll(NULL, 0, 10);
	}
	EXPECT_EQ(inq, n1);	/* the next datagram, as received */

	ASSERT_EQ(kt_detach(x.b.fd), 0);
	ASSERT_EQ(kt_sock_get(x.b.fd, &si), -ENOENT);

	ASSERT_EQ(kt_recv_timeout(x.b.fd, buf, sizeof(buf), 2000), n1);
	ASSERT_MEMEQ(buf, rec1, n1);
	ASSERT_EQ(kt_recv_timeout(x.b.fd, buf, sizeof(buf), 2000), n2);
	ASSERT_MEMEQ(buf, rec2, n2);
	ASSERT_EQ(kt_recv_nb(x.b.fd, buf, sizeof(buf)), -EAGAIN);

	/* plain UDP now, both ways */
	ASSERT_EQ(sendto(x.b.fd, "plain out", 9, 0, SA(&x.r), x.r.alen), 9);
	ASSERT_EQ(kt_recv_timeout(x.r.fd, buf, sizeof(buf), 2000), 9);
	ASSERT_MEMEQ(buf, "plain out", 9);
	ASSERT_EQ(sendto(x.r.fd, "plain in", 8, 0, SA(&x.b), x.b.alen), 8);
	ASSERT_EQ(kt_recv_timeout(x.b.fd, buf, sizeof(buf), 2000), 8);
	ASSERT_MEMEQ(buf, "plain in", 8);
	/* MSG_PEEK works again (plain UDP) */
	ASSERT_EQ(sendto(x.r.fd, "peek", 4, 0, SA(&x.b), x.b.alen), 4);
	ASSERT_TRUE(kt_wait_readable(x.b.fd, 2000));
	ASSERT_EQ(recv(x.b.fd, buf, sizeof(buf), MSG_PEEK), 4);
	ASSERT_EQ(recv(x.b.fd, buf, sizeof(buf), 0), 4);
	/* and it can be attached again */
	ASSERT_EQ(kt_attach(x.b.fd, 0, NULL), 0);
	close(x.b.fd);
	close(x.r.fd);
}

TEST(close_with_assocs_and_queued_records)
{
	struct kt_sock_info all[64], si;
	struct kt_sock peers[3];
	struct br x;
	uint8_t rec[128];
	uint32_t id;
	int i, n;

	need_root();
	br_setup(&x);
	ASSERT_EQ(kt_sock_get(x.b.fd, &si), 0);
	id = si.sock_id;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(kt_udp_open(AF_INET, &peers[i]), 0);
		ASSERT_EQ(kt_assoc_add(x.b.fd, SA(&peers[i]), CIPHER, &x.kbr,
				       &x.krb, 0), 0);
	}
	/* a record queued, one being sent */
	ASSERT_GT(seal_to(x.r.fd, &x.krb, 23, 1, 0, "queued", 6, &x.b, rec,
			  sizeof(rec), false), 0);
	ASSERT_EQ(sendto(x.b.fd, "x", 1, 0, SA(&x.r), x.r.alen), 1);
	ASSERT_EQ(kt_sock_get(x.b.fd, &si), 0);
	EXPECT_EQ(si.num_assocs, 4);
	close(x.b.fd);

	ASSERT_NE(kt_sock_get_by_id(id, &si), 0);
	n = kt_sock_dump(all, 64);
	ASSERT_GE(n, 0);
	for (i = 0; i < n && i < 64; i++)
		EXPECT_NE(all[i].sock_id, id);
	for (i = 0; i < 3; i++)
		close(peers[i].fd);
	close(x.r.fd);
	/* the frees run from a workqueue after a grace period: give them
	 * time, so that the harness's dmesg check sees what they print */
	poll(NULL, 0, 300);
}

/* ---- per-namespace statistics ---- */

static int proc_stats(uint64_t st[KDTLS_STAT_MAX + 1])
{
	char name[64];
	unsigned long long v;
	FILE *f = fopen("/proc/net/kdtls/stat", "r");
	int i, n = 0;

	memset(st, 0, sizeof(uint64_t) * (KDTLS_STAT_MAX + 1));
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		for (i = 1; i <= KDTLS_STAT_MAX; i++)
			if (!strcmp(name, kt_stat_names[i])) {
				st[i] = v;
				n++;
			}
	}
	fclose(f);
	return n;
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)))
		ret = -errno;
	close(fd);
	return ret;
}

/* A and B attached with mirrored associations */
struct ab {
	struct kt_sock a, b;
	struct kt_key kab, kba;
	uint32_t ida, idb;
};

static int ab_setup(struct ab *x, const struct kt_assoc_opts *o)
{
	if (kt_udp_pair(AF_INET, false, &x->a, &x->b) ||
	    kt_attach(x->a.fd, 0, &x->ida) || kt_attach(x->b.fd, 0, &x->idb))
		return -1;
	kt_key_make(&x->kab, CIPHER, 1, 0, 51);
	kt_key_make(&x->kba, CIPHER, 1, 0, 52);
	if (kt_assoc_add_ex(x->a.fd, SA(&x->b), CIPHER, &x->kab, &x->kba, o) ||
	    kt_assoc_add_ex(x->b.fd, SA(&x->a), CIPHER, &x->kba, &x->kab, o))
		return -1;
	return 0;
}

struct ns_result {
	int step;		/* last step reached, for the log */
	int err;
	int proc_before_n;
	uint64_t before[KDTLS_STAT_MAX + 1], after[KDTLS_STAT_MAX + 1];
	int n_socks;
	uint32_t ids[8], ida, idb;
};

static void ns_child(struct ns_result *res)
{
	struct ab x;
	struct kt_sock_info all[8];
	uint8_t buf[64], rec[128];
	int i;

	res->step = 1;
	if (unshare(CLONE_NEWNET) || lo_up()) {
		res->err = errno;
		return;
	}
	res->step = 2;
	res->proc_before_n = proc_stats(res->before);
	res->step = 3;
	if (kt_nl_init() || ab_setup(&x, NULL))
		return;
	res->ida = x.ida;
	res->idb = x.idb;
	res->step = 4;
	for (i = 0; i < 5; i++) {
		if (sendto(x.a.fd, "ns", 2, 0, SA(&x.b), x.b.alen) != 2 ||
		    kt_recv_timeout(x.b.fd, buf, sizeof(buf), 2000) != 2)
			return;
	}
	res->step = 5;
	/* an epoch-1 record from a socket without association, read without
	 * a control buffer and no agent: drop-no-agent, in this namespace */
	{
		struct kt_sock raw;

		if (kt_udp_open(AF_INET, &raw))
			return;
		seal_to(raw.fd, &x.kab, 23, 1, 101, "f", 1, &x.b, rec,
			sizeof(rec), true);
		kt_wait_readable(x.b.fd, 2000);
		kt_drain(x.b.fd);
		close(raw.fd);
	}
	res->step = 6;
	proc_stats(res->after);
	res->n_socks = kt_sock_dump(all, 8);
	for (i = 0; i < res->n_socks && i < 8; i++)
		res->ids[i] = all[i].sock_id;
	res->step = 7;
}

TEST(netns_stats_and_dump_are_per_namespace)
{
	uint64_t p0[KDTLS_STAT_MAX + 1], p1[KDTLS_STAT_MAX + 1];
	struct ns_result *res;
	struct kt_sock_info all[64];
	struct ab x;
	uint8_t buf[64];
	int i, n, status;
	bool found;
	pid_t pid;

	need_root();
	ASSERT_EQ(kt_nl_init(), 0);
	ASSERT_EQ(ab_setup(&x, NULL), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(sendto(x.a.fd, "pa", 2, 0, SA(&x.b), x.b.alen), 2);
		ASSERT_EQ(kt_recv_timeout(x.b.fd, buf, sizeof(buf), 2000), 2);
	}
	ASSERT_GT(proc_stats(p0), 0);
	EXPECT_GE(p0[KDTLS_STAT_TX_RECORDS], 3);

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(res != MAP_FAILED);
	memset(res, 0, sizeof(*res));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		ns_child(res);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	TH_LOG("child reached step %d (err %d)", res->step, res->err);
	ASSERT_EQ(res->step, 7);

	/* the new namespace started from zero... */
	EXPECT_EQ(res->proc_before_n, KDTLS_STAT_MAX);
	for (i = 1; i <= KDTLS_STAT_MAX; i++)
		EXPECT_EQ(res->before[i], 0);
	/* ...and counted only its own traffic */
	EXPECT_EQ(res->after[KDTLS_STAT_TX_RECORDS], 5);
	EXPECT_EQ(res->after[KDTLS_STAT_RX_RECORDS], 5);
	EXPECT_EQ(res->after[KDTLS_STAT_TX_BYTES], 10);
	EXPECT_EQ(res->after[KDTLS_STAT_DROP_NO_AGENT], 1);
	EXPECT_EQ(res->after[KDTLS_STAT_DROP_AUTH], 0);
	/* its dump lists its two sockets only */
	EXPECT_EQ(res->n_socks, 2);
	for (i = 0; i < res->n_socks && i < 8; i++)
		EXPECT_TRUE(res->ids[i] == res->ida || res->ids[i] == res->idb);

	/* the parent's namespace saw none of it */
	ASSERT_GT(proc_stats(p1), 0);
	kt_stats_log("parent netns", p0, p1);
	for (i = 1; i <= KDTLS_STAT_MAX; i++)
		EXPECT_EQ(p1[i], p0[i]);
	n = kt_sock_dump(all, 64);
	found = false;
	for (i = 0; i < n && i < 64; i++)
		found |= all[i].sock_id == x.ida;
	EXPECT_TRUE(found);
	close(x.a.fd);
	close(x.b.fd);
}

/* ---- concurrency smoke ---- */

#define ITERS	2000

struct conc {
	struct ab x;
	volatile int senders_done;
	uint64_t sent_ab, sent_ba, send_err;
	uint64_t got_ab, got_ba, bad_payload;
	uint64_t rekeys, rekey_err, churn, churn_err;
	int last_errno;
};

static void *conc_send(void *arg)
{
	struct conc *c = arg;
	char m[32];
	int i, len;

	for (i = 0; i < ITERS; i++) {
		len = snprintf(m, sizeof(m), "ab %d", i);
		if (sendto(c->x.a.fd, m, len, 0, SA(&c->x.b), c->x.b.alen) ==
		    len)
			c->sent_ab++;
		else
			c->send_err++, c->last_errno = errno;
		len = snprintf(m, sizeof(m), "ba %d", i);
		if (sendto(c->x.b.fd, m, len, 0, SA(&c->x.a), c->x.a.alen) ==
		    len)
			c->sent_ba++;
		else
			c->send_err++, c->last_errno = errno;
	}
	c->senders_done = 1;
	return NULL;
}

static void *conc_recv(void *arg)
{
	struct conc *c = arg;
	struct pollfd p[2] = {
		{ .fd = c->x.a.fd, .events = POLLIN },
		{ .fd = c->x.b.fd, .events = POLLIN },
	};
	uint64_t idle_since = 0;
	char buf[64];
	int i, r;

	for (;;) {
		r = poll(p, 2, 100);
		if (r <= 0) {
			if (!c->senders_done)
				continue;
			if (!idle_since)
				idle_since = kt_now_ms();
			else if (kt_now_ms() - idle_since > 1500)
				break;
			continue;
		}
		idle_since = 0;
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (!(p[i].revents & POLLIN))
				continue;
			n = recv(p[i].fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			if (n < 0)
				continue;	/* spurious wakeup */
			buf[n] = '\0';
			if (!strncmp(buf, i ? "ab " : "ba ", 3))
				(i ? c->got_ab++ : c->got_ba++);
			else
				c->bad_payload++;
		}
	}
	return NULL;
}

static void *conc_rekey(void *arg)
{
	struct conc *c = arg;
	struct kt_key k;
	int i;

	for (i = 0; i < ITERS; i++) {
		uint16_t e = (uint16_t)(i + 2);
		int err = 0;

		/* receiver first, then sender: mirrored on the peer */
		kt_key_make(&k, CIPHER, e, 0, 51);
		err |= kt_rekey(c->x.b.fd, SA(&c->x.a), NULL, &k);
		err |= kt_rekey(c->x.a.fd, SA(&c->x.b), &k, NULL);
		kt_key_make(&k, CIPHER, e, 0, 52);
		err |= kt_rekey(c->x.a.fd, SA(&c->x.b), NULL, &k);
		err |= kt_rekey(c->x.b.fd, SA(&c->x.a), &k, NULL);
		if (err)
			c->rekey_err++;
		else
			c->rekeys++;
	}
	return NULL;
}

static void *conc_churn(void *arg)
{
	struct conc *c = arg;
	struct sockaddr_in p = { .sin_family = AF_INET };
	struct kt_key k;
	int i;

	kt_key_make(&k, CIPHER, 1, 0, 60);
	p.sin_addr.s_addr = htonl(0x7f000001);
	for (i = 0; i < ITERS; i++) {
		p.sin_port = htons(20000 + i % 50);
		if (kt_assoc_add(c->x.a.fd, (void *)&p, CIPHER, &k, &k, 0) ||
		    kt_assoc_del(c->x.a.fd, (void *)&p))
			c->churn_err++;
		else
			c->churn++;
	}
	return NULL;
}

static uint64_t udp_snmp(const char *field)
{
	char hdr[1024], val[1024], *hs, *vs, *h, *v;
	uint64_t ret = 0;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return 0;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		if (strncmp(hdr, "Udp:", 4))
			continue;
		h = strtok_r(hdr, " \n", &hs);
		v = strtok_r(val, " \n", &vs);
		while (h && v) {
			if (!strcmp(h, field))
				ret = strtoull(v, NULL, 10);
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
	return ret;
}

static uint64_t drops(const uint64_t *s)
{
	uint64_t d = 0;
	int i;

	for (i = KDTLS_STAT_DROP_MALFORMED; i <= KDTLS_STAT_DROP_NOMEM; i++)
		d += s[i];
	return d + s[KDTLS_STAT_RX_TO_APP] + s[KDTLS_STAT_RX_TO_AGENT];
}

TEST_TIMEOUT(concurrency_data_rekey_churn, 280)
{
	static struct conc c;
	struct kt_assoc_opts o = { .grace_ms = 600000, .window = 1024 };
	uint64_t sa[KDTLS_STAT_MAX + 1], sb[KDTLS_STAT_MAX + 1];
	uint64_t rcvbuf0, rcvbuf1, t0;
	int sz = 8 << 20;
	pthread_t th[4];
	uint8_t buf[64];
	int i;

	need_root();
	ASSERT_EQ(kt_nl_init(), 0);
	memset(&c, 0, sizeof(c));
	ASSERT_EQ(ab_setup(&c.x, &o), 0);
	ASSERT_EQ(setsockopt(c.x.a.fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
			     sizeof(sz)), 0);
	ASSERT_EQ(setsockopt(c.x.b.fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
			     sizeof(sz)), 0);
	rcvbuf0 = udp_snmp("RcvbufErrors");

	t0 = kt_now_ms();
	ASSERT_EQ(pthread_create(&th[0], NULL, conc_recv, &c), 0);
	ASSERT_EQ(pthread_create(&th[1], NULL, conc_send, &c), 0);
	ASSERT_EQ(pthread_create(&th[2], NULL, conc_rekey, &c), 0);
	ASSERT_EQ(pthread_create(&th[3], NULL, conc_churn, &c), 0);
	for (i = 1; i < 4; i++)
		pthread_join(th[i], NULL);
	c.senders_done = 1;
	pthread_join(th[0], NULL);
	TH_LOG("%llu ms: sent %llu/%llu (errors %llu, last %s), got %llu/%llu, bad %llu",
	       (unsigned long long)(kt_now_ms() - t0),
	       (unsigned long long)c.sent_ab, (unsigned long long)c.sent_ba,
	       (unsigned long long)c.send_err, strerror(c.last_errno),
	       (unsigned long long)c.got_ab, (unsigned long long)c.got_ba,
	       (unsigned long long)c.bad_payload);
	TH_LOG("rekeys %llu (errors %llu), add/del %llu (errors %llu)",
	       (unsigned long long)c.rekeys, (unsigned long long)c.rekey_err,
	       (unsigned long long)c.churn, (unsigned long long)c.churn_err);
	rcvbuf1 = udp_snmp("RcvbufErrors");

	EXPECT_EQ(c.rekey_err, 0);
	EXPECT_EQ(c.churn_err, 0);
	EXPECT_EQ(c.bad_payload, 0);
	EXPECT_EQ(c.send_err, 0);
	EXPECT_GT(c.got_ab, 0);
	EXPECT_GT(c.got_ba, 0);

	ASSERT_EQ(kt_sock_get_stats(c.x.a.fd, sa), 0);
	ASSERT_EQ(kt_sock_get_stats(c.x.b.fd, sb), 0);
	kt_stats_log("A", (uint64_t[KDTLS_STAT_MAX + 1]){ 0 }, sa);
	kt_stats_log("B", (uint64_t[KDTLS_STAT_MAX + 1]){ 0 }, sb);
	TH_LOG("UDP RcvbufErrors +%llu",
	       (unsigned long long)(rcvbuf1 - rcvbuf0));
	/* what the kernel sealed is what the senders sent */
	EXPECT_EQ(sa[KDTLS_STAT_TX_RECORDS], c.sent_ab);
	EXPECT_EQ(sb[KDTLS_STAT_TX_RECORDS], c.sent_ba);
	/* what the readers got is what the kernel delivered */
	EXPECT_EQ(sb[KDTLS_STAT_RX_RECORDS], c.got_ab);
	EXPECT_EQ(sa[KDTLS_STAT_RX_RECORDS], c.got_ba);
	/* every record sent is delivered or counted somewhere */
	EXPECT_EQ(sa[KDTLS_STAT_TX_RECORDS] + sb[KDTLS_STAT_TX_RECORDS],
		  sa[KDTLS_STAT_RX_RECORDS] + sb[KDTLS_STAT_RX_RECORDS] +
		  drops(sa) + drops(sb) + (rcvbuf1 - rcvbuf0));
	/* rekeys: per association, per socket (kdtls.rst, Statistics) */
	{
		struct kt_assoc_info ai;

		ASSERT_EQ(kt_assoc_get(c.x.a.fd, SA(&c.x.b), &ai), 0);
		EXPECT_EQ(ai.stats[KDTLS_STAT_REKEY_TX], c.rekeys);
		EXPECT_EQ(ai.stats[KDTLS_STAT_REKEY_RX], c.rekeys);
		EXPECT_EQ(ai.tx_epoch, c.rekeys + 1);
		EXPECT_EQ(ai.rx_epoch, c.rekeys + 1);
	}
	EXPECT_EQ(sa[KDTLS_STAT_REKEY_TX], c.rekeys);
	EXPECT_EQ(sa[KDTLS_STAT_REKEY_RX], c.rekeys);

	/* and data still flows both ways afterwards */
	ASSERT_EQ(sendto(c.x.a.fd, "end", 3, 0, SA(&c.x.b), c.x.b.alen), 3);
	ASSERT_EQ(kt_recv_timeout(c.x.b.fd, buf, sizeof(buf), 2000), 3);
	ASSERT_EQ(sendto(c.x.b.fd, "end", 3, 0, SA(&c.x.a), c.x.a.alen), 3);
	ASSERT_EQ(kt_recv_timeout(c.x.a.fd, buf, sizeof(buf), 2000), 3);
	close(c.x.a.fd);
	close(c.x.b.fd);
}

/* send @len bytes to @to, as records of @seg bytes when @seg (UDP_SEGMENT) */
static ssize_t sendmsg_seg(int fd, const void *buf, size_t len,
			   struct kt_sock *to, uint16_t seg)
{
	char cbuf[CMSG_SPACE(sizeof(uint16_t))];
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_name = SA(to), .msg_namelen = to->alen,
	};
	struct cmsghdr *cm;

	if (seg) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	}
	return sendmsg(fd, &mh, 0);
}

/*
 * Two threads send on one socket at once, one record at a time and in GSO
 * batches of ten: the socket's TX scratch buffer is busy for one of them
 * at any moment (kmod/scratch.c), so both paths run, concurrently.  Every
 * record arrives once, intact, in its sender's order.
 */
#define TWO_N	1500

struct two {
	struct ab x;
	uint64_t sent[2], err[2];
	int last_errno;
};

static void *two_send(void *arg)
{
	struct two *t = *(struct two **)arg;
	int who = ((struct two **)arg)[1] != NULL, i, j, len, seg = 20;
	char m[10 * 20 + 1];

	for (i = 0; i < TWO_N / (who ? 10 : 1); i++) {
		if (who) {
			for (j = 0; j < 10; j++)
				snprintf(m + j * 20, 21, "g%06d %012d",
					 i * 10 + j, 0);
			len = 200;
		} else {
			len = snprintf(m, sizeof(m), "s%06d", i);
		}
		if (sendmsg_seg(t->x.a.fd, m, len, &t->x.b, who ? seg : 0) ==
		    len)
			t->sent[who] += who ? 10 : 1;
		else
			t->err[who]++, t->last_errno = errno;
	}
	return NULL;
}

/* packets the backlog queues dropped (netdev_max_backlog), all CPUs */
static uint64_t softnet_drops(void)
{
	FILE *f = fopen("/proc/net/softnet_stat", "r");
	unsigned int processed, dropped;
	uint64_t sum = 0;
	char line[512];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%x %x", &processed, &dropped) == 2)
			sum += dropped;
	fclose(f);
	return sum;
}

TEST_TIMEOUT(two_senders_one_socket, 120)
{
	static struct two t;
	struct two *arg0[2] = { &t, NULL }, *arg1[2] = { &t, &t };
	struct kt_assoc_opts o = { .window = 1024 };
	int sz = 8 << 20, last[2] = { -1, -1 }, n1[2] = { 0, 0 };
	int got = 0, bad = 0, v;
	uint64_t s[KDTLS_STAT_MAX + 1], rcvbuf0, backlog0, lost;
	pthread_t th[2];
	char buf[64];
	ssize_t n;
	int i;

	need_root();
	ASSERT_EQ(kt_nl_init(), 0);
	memset(&t, 0, sizeof(t));
	ASSERT_EQ(ab_setup(&t.x, &o), 0);
	ASSERT_EQ(setsockopt(t.x.b.fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
			     sizeof(sz)), 0);
	rcvbuf0 = udp_snmp("RcvbufErrors");
	backlog0 = softnet_drops();
	ASSERT_EQ(pthread_create(&th[0], NULL, two_send, arg0), 0);
	ASSERT_EQ(pthread_create(&th[1], NULL, two_send, arg1), 0);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	TH_LOG("sent %llu + %llu, errors %llu + %llu (last %s)",
	       (unsigned long long)t.sent[0], (unsigned long long)t.sent[1],
	       (unsigned long long)t.err[0], (unsigned long long)t.err[1],
	       strerror(t.last_errno));
	EXPECT_EQ(t.err[0] + t.err[1], 0);
	while ((n = kt_recv_timeout(t.x.b.fd, buf, sizeof(buf) - 1, 1000)) > 0) {
		buf[n] = '\0';
		got++;
		/* each sender's records in its order, none twice */
		i = n == 7 && buf[0] == 's' ? 0 : n == 20 && buf[0] == 'g' ? 1 : -1;
		if (i >= 0 && sscanf(buf + 1, "%d", &v) == 1 && v > last[i] &&
		    v < TWO_N) {
			last[i] = v;
			n1[i]++;
		} else {
			bad++;
		}
	}
	/*
	 * loopback drops only when the backlog queue or B's receive buffer
	 * overflows, and counts both
	 */
	lost = udp_snmp("RcvbufErrors") - rcvbuf0 + softnet_drops() - backlog0;
	TH_LOG("received %d (single %d, batched %d), bad %d, dropped by the stack %llu",
	       got, n1[0], n1[1], bad, (unsigned long long)lost);
	EXPECT_EQ(bad, 0);
	ASSERT_EQ(kt_sock_get_stats(t.x.a.fd, s), 0);
	EXPECT_EQ(s[KDTLS_STAT_TX_RECORDS], 2 * TWO_N);
	EXPECT_EQ(s[KDTLS_STAT_TX_ERRORS], 0);
	ASSERT_EQ(kt_sock_get_stats(t.x.b.fd, s), 0);
	kt_stats_log("B", (uint64_t[KDTLS_STAT_MAX + 1]){ 0 }, s);
	EXPECT_EQ(s[KDTLS_STAT_RX_RECORDS], got);
	EXPECT_EQ(s[KDTLS_STAT_DROP_AUTH] + s[KDTLS_STAT_DROP_MALFORMED], 0);
	/*
	 * A sender descheduled between reserving its sequence numbers and
	 * sending them can fall behind the other by more than the replay
	 * window: those records arrive too old (Documentation/kdtls.rst).
	 */
	EXPECT_EQ(got + lost + s[KDTLS_STAT_DROP_REPLAY], 2 * TWO_N);
	close(t.x.a.fd);
	close(t.x.b.fd);
}

/* ---- module unload and reload: keep this the last test ---- */

static bool module_loaded(void)
{
	struct stat st;

	return !stat("/sys/module/kdtls", &st);
}

static long module_refcnt(void)
{
	FILE *f = fopen("/sys/module/kdtls/refcnt", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * The module the VM loaded: $KDTLS_VM_MODULE, else the KDTLS_VM_MODULE line
 * of scripts/vm-run's $KDTLS_VM_OUT/.conf (guest-init does not export it).
 */
static const char *module_path(void)
{
	static char path[4096];
	const char *env = getenv("KDTLS_VM_MODULE"), *out;
	char line[4096];
	FILE *f;

	if (env && *env)
		return env;
	if (path[0])
		return path;
	out = getenv("KDTLS_VM_OUT");
	if (!out)
		return NULL;
	snprintf(line, sizeof(line), "%s/.conf", out);
	f = fopen(line, "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "KDTLS_VM_MODULE='%4095[^']'", path) == 1)
			break;
	fclose(f);
	return path[0] ? path : NULL;
}

static int module_load(void)
{
	const char *path = module_path();
	int fd, ret;

	if (!path)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = (int)syscall(SYS_finit_module, fd, "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

FIXTURE(mod) {
	int unused;
};

FIXTURE_SETUP(mod)
{
	need_root();
	if (!module_path())
		SKIP("KDTLS_VM_MODULE not known: could not reload the module");
	TH_LOG("module: %s", module_path());
	if (!module_loaded())
		SKIP("kdtls is not loaded as a module");
}

FIXTURE_TEARDOWN(mod)
{
	int i;

	/* whatever happened, leave the module loaded */
	for (i = 0; i < 50 && !module_loaded(); i++) {
		int err = module_load();

		if (!err || err == -EEXIST)
			break;
		TH_LOG("reloading %s: %s", module_path(),
		       strerror(-err));
		poll(NULL, 0, 100);
	}
}

/* after a reload, in a fresh process: the family works again */
static int check_family_works(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct ab x;
		char buf[16];

		if (kt_nl_init() || ab_setup(&x, NULL))
			_exit(2);
		if (sendto(x.a.fd, "back", 4, 0, SA(&x.b), x.b.alen) != 4 ||
		    kt_recv_timeout(x.b.fd, buf, sizeof(buf), 2000) != 4 ||
		    memcmp(buf, "back", 4))
			_exit(3);
		close(x.a.fd);
		close(x.b.fd);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F_TIMEOUT(mod, module_unload_and_reload, 60)
{
	struct kt_sock s4, s6, r;
	struct kt_key k;
	long ref0, ref;
	uint8_t buf[64];
	int ret, err;

	ASSERT_EQ(kt_nl_init(), 0);
	ref0 = module_refcnt();
	TH_LOG("refcnt before: %ld", ref0);
	ASSERT_EQ(kt_udp_open(AF_INET, &s4), 0);
	ASSERT_EQ(kt_udp_open(AF_INET6, &s6), 0);
	ASSERT_EQ(kt_udp_open(AF_INET, &r), 0);
	ASSERT_EQ(kt_attach(s4.fd, 0, NULL), 0);
	ASSERT_EQ(kt_attach(s6.fd, 0, NULL), 0);
	ref = module_refcnt();
	EXPECT_EQ(ref, ref0 + 2);

	/* attached: unload refused, module still there and working */
	errno = 0;
	ret = (int)syscall(SYS_delete_module, "kdtls", O_NONBLOCK);
	err = errno;
	TH_LOG("delete_module while attached: %d (%s)", ret, strerror(err));
	ASSERT_EQ(ret, -1);
	EXPECT_TRUE(err == EBUSY || err == EAGAIN || err == EWOULDBLOCK);
	ASSERT_TRUE(module_loaded());
	kt_key_make(&k, CIPHER, 1, 0, 70);
	ASSERT_EQ(kt_assoc_add(s4.fd, SA(&r), CIPHER, &k, &k, 0), 0);
	ASSERT_EQ(sendto(s4.fd, "ok", 2, 0, SA(&r), r.alen), 2);
	ASSERT_GT(kt_recv_timeout(r.fd, buf, sizeof(buf), 2000), 0);

	/* detach one, close the other (with an association, keys in use):
	 * then the module goes, right away */
	ASSERT_EQ(kt_detach(s6.fd), 0);
	EXPECT_EQ(module_refcnt(), ref0 + 1);
	ret = (int)syscall(SYS_delete_module, "kdtls", O_NONBLOCK);
	EXPECT_EQ(ret, -1);
	close(s4.fd);
	EXPECT_EQ(module_refcnt(), ref0);
	errno = 0;
	ret = (int)syscall(SYS_delete_module, "kdtls", O_NONBLOCK);
	TH_LOG("delete_module after close: %d (%s)", ret, strerror(errno));
	ASSERT_EQ(ret, 0);
	ASSERT_FALSE(module_loaded());
	/* the detached socket is plain UDP and outlives the module */
	ASSERT_EQ(sendto(s6.fd, "plain", 5, 0, SA(&s6), s6.alen), 5);
	ASSERT_EQ(kt_recv_timeout(s6.fd, buf, sizeof(buf), 2000), 5);
	ASSERT_MEMEQ(buf, "plain", 5);

	/* give the RCU callbacks queued by the close a chance to run
	 * against the unloaded module: the dmesg check catches it */
	poll(NULL, 0, 500);

	ASSERT_EQ(module_load(), 0);
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(check_family_works(), 0);
	close(s6.fd);
	close(r.fd);
}

TEST_HARNESS_MAIN
