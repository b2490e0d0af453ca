// SPDX-License-Identifier: GPL-2.0
/*
 * kdtlsd: the kdtls generic netlink family.
 *
 * Two netlink sockets:
 *
 *  - the agent socket: sock-attach / sock-set with the agent flag are sent
 *    on it, so its port id becomes the handshake agent of every socket the
 *    daemon serves, and the kernel's unicast "record" notifications arrive
 *    on it (from softirq, never waited for: a full socket loses records, so
 *    its receive buffer is large).  Notifications that arrive while an
 *    attach waits for its answer are stashed and handled by the loop;
 *  - the request socket: assoc-add, assoc-del, record-send.  Nothing
 *    unsolicited ever arrives on it, so a request is a plain send + wait.
 *
 * Requests are synchronous: the kernel answers them without sleeping on
 * the network, and keeping them in order is what makes "keys installed
 * before the application is told" trivially true.  Both sockets ask for
 * extended ACKs and capped ACKs (an error never echoes a request, which may
 * carry keys); every request buffer is wiped before it is freed.
 *
 * The exception: a verbatim record-send (a handshake datagram OpenSSL
 * wrote) asks for no ACK and is not waited for -- its failure changes
 * nothing (a lost datagram is a lost datagram, the peer retransmits), so
 * the ACK read was a syscall per datagram for nothing.  Its error, if
 * any, still comes back and is skipped by the next request's wait; after
 * NL_UNACKED_MAX of them without a request, the errors queued are read
 * anyway, so that they can never fill the socket and crowd out the ACK
 * of a request that matters (assoc-add).  The request socket has libnl's
 * automatic ACK flag off: every other request asks for its ACK itself.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <openssl/crypto.h>

#include "kdtlsd.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

#define NL_RCVBUF	(8 << 20)
#define NL_WAIT_MS	5000
#define NL_UNACKED_MAX	64

struct stash {
	struct stash *next;
	size_t len;
	uint8_t buf[];
};

static struct {
	struct nl_sock *agent, *req;
	int family;
	char extack[256];
	struct stash *stash, **stash_tail;
	unsigned int unacked;	/* record-sends since nl.req was last read */
	uint8_t rbuf[65536 + 4096];
} nl = { .stash_tail = &nl.stash };

static struct nl_sock *sock_new(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1, err;

	if (!sk)
		return NULL;
	err = genl_connect(sk);
	if (err) {
		kd_err("netlink: %s", nl_geterror(err));
		nl_socket_free(sk);
		return NULL;
	}
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	return sk;
}

int kd_nl_init(void)
{
	nl.req = sock_new();
	nl.agent = sock_new();
	if (!nl.req || !nl.agent)
		goto err;
	nl.family = genl_ctrl_resolve(nl.req, KDTLS_GENL_NAME);
	if (nl.family < 0) {
		kd_err("generic netlink family \"%s\" not found (is kdtls.ko loaded?)",
		       KDTLS_GENL_NAME);
		goto err;
	}
	nl_socket_disable_auto_ack(nl.req);	/* see the top of this file */
	nl_socket_set_nonblocking(nl.agent);
	if (nl_socket_set_buffer_size(nl.agent, NL_RCVBUF, 0))
		kd_warn("netlink: cannot grow the agent socket buffer");
	/* beyond rmem_max, as root */
	setsockopt(nl_socket_get_fd(nl.agent), SOL_SOCKET, SO_RCVBUFFORCE,
		   &(int){ NL_RCVBUF }, sizeof(int));
	return 0;
err:
	kd_nl_exit();
	return -1;
}

void kd_nl_exit(void)
{
	struct stash *s;

	while ((s = nl.stash)) {
		nl.stash = s->next;
		OPENSSL_cleanse(s->buf, s->len);
		free(s);
	}
	nl.stash_tail = &nl.stash;
	if (nl.agent)
		nl_socket_free(nl.agent);
	if (nl.req)
		nl_socket_free(nl.req);
	nl.agent = nl.req = NULL;
}

int kd_nl_fd(void)
{
	return nl_socket_get_fd(nl.agent);
}

const char *kd_nl_extack(void)
{
	return nl.extack;
}

static int parse_peer(struct nlattr **tb, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!tb[KDTLS_A_PEER_PORT])
		return -1;
	if (tb[KDTLS_A_PEER_ADDR4] && nla_len(tb[KDTLS_A_PEER_ADDR4]) == 4) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, nla_data(tb[KDTLS_A_PEER_ADDR4]), 4);
		in->sin_port = nla_get_u16(tb[KDTLS_A_PEER_PORT]);
		return 0;
	}
	if (tb[KDTLS_A_PEER_ADDR6] && nla_len(tb[KDTLS_A_PEER_ADDR6]) == 16) {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, nla_data(tb[KDTLS_A_PEER_ADDR6]), 16);
		in6->sin6_port = nla_get_u16(tb[KDTLS_A_PEER_PORT]);
		return 0;
	}
	return -1;
}

/* One record notification (a genl message of our family, seq 0). */
static void handle_ntf(struct nlmsghdr *nlh)
{
	struct nlattr *tb[KDTLS_A_MAX + 1];
	struct kd_ntf n = { 0 };

	if (nlh->nlmsg_type != nl.family ||
	    genlmsg_parse(nlh, 0, tb, KDTLS_A_MAX, NULL) < 0)
		return;
	if (((struct genlmsghdr *)nlmsg_data(nlh))->cmd != KDTLS_CMD_RECORD)
		return;
	if (!tb[KDTLS_A_SOCK_ID] || !tb[KDTLS_A_RECORD_DATA] ||
	    parse_peer(tb, &n.peer)) {
		kd_warn("netlink: malformed record notification");
		return;
	}
	n.sock_id = nla_get_u32(tb[KDTLS_A_SOCK_ID]);
	if (tb[KDTLS_A_RECORD_TYPE])
		n.type = nla_get_u8(tb[KDTLS_A_RECORD_TYPE]);
	if (tb[KDTLS_A_RECORD_FLAGS])
		n.flags = nla_get_u32(tb[KDTLS_A_RECORD_FLAGS]);
	if (tb[KDTLS_A_RECORD_EPOCH])
		n.epoch = nla_get_u16(tb[KDTLS_A_RECORD_EPOCH]);
	if (tb[KDTLS_A_RECORD_SEQ])
		n.seq = nla_get_u64(tb[KDTLS_A_RECORD_SEQ]);
	n.data = nla_data(tb[KDTLS_A_RECORD_DATA]);
	n.len = nla_len(tb[KDTLS_A_RECORD_DATA]);
	kd_hs_record(&n);
}

static void handle_buf(uint8_t *buf, size_t len)
{
	struct nlmsghdr *nlh = (void *)buf;
	int rem = len;

	for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem))
		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			handle_ntf(nlh);
}

/* The agent socket is readable (and the stash from attach requests). */
void kd_nl_event(void)
{
	/* a bounded batch: then the loop serves the control clients again */
	int fd = nl_socket_get_fd(nl.agent), budget = 32;
	size_t used = 0;		/* of nl.rbuf, to wipe */
	struct stash *s;

	while ((s = nl.stash)) {
		nl.stash = s->next;
		if (!nl.stash)
			nl.stash_tail = &nl.stash;
		handle_buf(s->buf, s->len);
		OPENSSL_cleanse(s->buf, s->len);
		free(s);
	}
	while (budget--) {
		ssize_t r = recv(fd, nl.rbuf, sizeof(nl.rbuf), MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				kd_warn("netlink: record notifications lost (agent socket full)");
				continue;
			}
			break;
		}
		if ((size_t)r > used)
			used = r;
		handle_buf(nl.rbuf, r);
	}
	OPENSSL_cleanse(nl.rbuf, used);
}

bool kd_nl_pending(void)
{
	return nl.stash != NULL;
}

static void stash(const uint8_t *buf, size_t len)
{
	struct stash *s = malloc(sizeof(*s) + len);

	if (!s)
		return;
	s->next = NULL;
	s->len = len;
	memcpy(s->buf, buf, len);
	*nl.stash_tail = s;
	nl.stash_tail = &s->next;
}

typedef void (*reply_fn)(struct nlattr **tb, void *arg);

static void parse_extack(struct nlmsghdr *nlh)
{
	size_t off = NLMSG_HDRLEN + sizeof(struct nlmsgerr);
	struct nlmsgerr *e = nlmsg_data(nlh);
	struct nlattr *a;
	int rem;

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len < off)
		return;
	nla_for_each_attr(a, (struct nlattr *)((char *)nlh + off),
			  nlh->nlmsg_len - off, rem)
		if (nla_type(a) == NLMSGERR_ATTR_MSG)
			nla_strlcpy(nl.extack, a, sizeof(nl.extack));
}

/*
 * Send @msg on @sk, hand a reply to @fn, wait for the ACK.  @msg is wiped
 * and freed.  Returns 0 or -errno; the kernel's message in kd_nl_extack().
 */
static int request(struct nl_sock *sk, struct nl_msg *msg, const char *op,
		   reply_fn fn, void *arg)
{
	int fd = nl_socket_get_fd(sk), ret = -ETIMEDOUT;
	uint64_t deadline = kd_now_ms() + NL_WAIT_MS;
	uint32_t seq;

	nl.extack[0] = 0;
	if (nl_send_auto(sk, msg) < 0) {
		ret = -EIO;
		goto out;
	}
	if (sk == nl.req)
		nl.unacked = 0;		/* read up to our answer below */
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now;
		struct nlmsghdr *nlh;
		ssize_t r;
		int rem;

		/*
		 * Generic netlink runs the request inside our sendmsg(): the
		 * answer is queued by now, so read first and poll only when
		 * it is not (one syscall per request less).
		 */
		r = recv(fd, nl.rbuf, sizeof(nl.rbuf), MSG_DONTWAIT);
		if (r < 0) {
			if (errno == ENOBUFS)
				kd_warn("netlink: notifications lost during %s", op);
			else if (errno != EAGAIN && errno != EINTR)
				break;
			now = kd_now_ms();
			if (now >= deadline)
				break;
			poll(&p, 1, deadline - now);
			continue;
		}
		nlh = (void *)nl.rbuf;
		rem = r;
		for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_seq != seq) {
				if (sk == nl.agent && !nlh->nlmsg_seq)
					stash((void *)nlh, nlh->nlmsg_len);
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(nlh);

				ret = e->error;
				if (ret)
					parse_extack(nlh);
				goto out;
			}
			if (nlh->nlmsg_type == nl.family && fn) {
				struct nlattr *tb[KDTLS_A_MAX + 1];

				if (!genlmsg_parse(nlh, 0, tb, KDTLS_A_MAX,
						   NULL))
					fn(tb, arg);
			}
		}
	}
out:
	if (ret && ret != -EEXIST)
		kd_dbg("netlink %s: %s%s%s", op, strerror(-ret),
		       nl.extack[0] ? ": " : "", nl.extack);
	OPENSSL_cleanse(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
	return ret;
}

/*
 * A request with room for @payload bytes of attributes.  Sized to the
 * request: libnl zeroes the whole buffer, and a 68 KiB one per record-send
 * showed in the handshake benchmark.
 */
static struct nl_msg *msg_new_flags(uint8_t cmd, size_t payload, int flags)
{
	struct nl_msg *msg = nlmsg_alloc_size(NLMSG_HDRLEN + GENL_HDRLEN +
					      payload);

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl.family, 0,
				flags, cmd, KDTLS_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static struct nl_msg *msg_new(uint8_t cmd, size_t payload)
{
	return msg_new_flags(cmd, payload, NLM_F_ACK);
}

static int put_peer(struct nl_msg *msg, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		return nla_put(msg, KDTLS_A_PEER_ADDR4, 4, &in->sin_addr) ?:
		       nla_put_u16(msg, KDTLS_A_PEER_PORT, in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		return nla_put(msg, KDTLS_A_PEER_ADDR6, 16, &in6->sin6_addr) ?:
		       nla_put_u16(msg, KDTLS_A_PEER_PORT, in6->sin6_port);
	}
}

static void get_id(struct nlattr **tb, void *arg)
{
	if (tb[KDTLS_A_SOCK_ID])
		*(uint32_t *)arg = nla_get_u32(tb[KDTLS_A_SOCK_ID]);
}

/*
 * Become the agent of @fd: sock-attach, or, when a previous daemon had
 * already attached it (EEXIST), sock-set -- a restarted daemon takes its
 * sockets back without disturbing their associations.
 */
int kd_nl_attach(int fd, uint32_t *sock_id)
{
	struct nl_msg *msg = msg_new(KDTLS_CMD_SOCK_ATTACH, 1024);
	int err;

	*sock_id = 0;
	if (!msg || nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    nla_put_u32(msg, KDTLS_A_SOCK_FLAGS, KDTLS_SOCK_F_AGENT)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	err = request(nl.agent, msg, "sock-attach", get_id, sock_id);
	if (err != -EEXIST)
		return err;
	msg = msg_new(KDTLS_CMD_SOCK_SET, 1024);
	if (!msg || nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    nla_put_u32(msg, KDTLS_A_SOCK_FLAGS, KDTLS_SOCK_F_AGENT)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return request(nl.agent, msg, "sock-set", get_id, sock_id);
}

int kd_nl_release(int fd)
{
	struct nl_msg *msg = msg_new(KDTLS_CMD_SOCK_SET, 1024);

	if (!msg || nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    nla_put_u32(msg, KDTLS_A_SOCK_FLAGS, 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return request(nl.agent, msg, "sock-set", NULL, NULL);
}

static int put_key(struct nl_msg *msg, int attr, uint64_t seq,
		   const uint8_t *key, size_t klen, const uint8_t *salt,
		   size_t slen)
{
	struct nlattr *nest = nla_nest_start(msg, attr);

	if (!nest || nla_put_u16(msg, KDTLS_A_KEY_EPOCH, 1) ||
	    nla_put_u64(msg, KDTLS_A_KEY_SEQ, seq) ||
	    nla_put(msg, KDTLS_A_KEY_KEY, klen, key) ||
	    nla_put(msg, KDTLS_A_KEY_SALT, slen, salt))
		return -1;
	nla_nest_end(msg, nest);
	return 0;
}

int kd_nl_assoc_add(int fd, const struct sockaddr_storage *peer,
		    const struct kd_keys *k, bool is_server,
		    uint64_t tx_seq, uint64_t rx_seq)
{
	const uint8_t *txk = is_server ? k->server_key : k->client_key;
	const uint8_t *rxk = is_server ? k->client_key : k->server_key;
	const uint8_t *txs = is_server ? k->server_salt : k->client_salt;
	const uint8_t *rxs = is_server ? k->client_salt : k->server_salt;
	struct nl_msg *msg = msg_new(KDTLS_CMD_ASSOC_ADD, 1024);

	if (!msg || nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    put_peer(msg, peer) ||
	    nla_put_u16(msg, KDTLS_A_ASSOC_VERSION, KDTLS_VERSION_1_2) ||
	    nla_put_u16(msg, KDTLS_A_ASSOC_CIPHER, k->cipher) ||
	    put_key(msg, KDTLS_A_ASSOC_TX, tx_seq, txk, k->key_len, txs,
		    k->salt_len) ||
	    put_key(msg, KDTLS_A_ASSOC_RX, rx_seq, rxk, k->key_len, rxs,
		    k->salt_len)) {
		if (msg) {
			OPENSSL_cleanse(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
			nlmsg_free(msg);
		}
		return -ENOMEM;
	}
	return request(nl.req, msg, "assoc-add", NULL, NULL);
}

int kd_nl_assoc_del(int fd, const struct sockaddr_storage *peer)
{
	struct nl_msg *msg = msg_new(KDTLS_CMD_ASSOC_DEL, 1024);

	if (!msg || nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    put_peer(msg, peer)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return request(nl.req, msg, "assoc-del", NULL, NULL);
}

int kd_nl_record_send(int fd, const struct sockaddr_storage *peer,
		      const void *data, size_t len, bool seal, uint8_t type)
{
	struct nl_msg *msg = msg_new_flags(KDTLS_CMD_RECORD_SEND,
					   NLA_ALIGN(len) + 256,
					   seal ? NLM_F_ACK : 0);
	int ret = 0;

	if (!msg || nla_put_u32(msg, KDTLS_A_SOCK_FD, fd) ||
	    put_peer(msg, peer) || nla_put(msg, KDTLS_A_RECORD_DATA, len, data) ||
	    (seal && (nla_put_u32(msg, KDTLS_A_RECORD_FLAGS, KDTLS_RECORD_F_SEAL) ||
		      nla_put_u8(msg, KDTLS_A_RECORD_TYPE, type)))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	if (seal)	/* the caller learns whether the kernel sealed it */
		return request(nl.req, msg, "record-send", NULL, NULL);
	/* verbatim: not waited for (see the top of this file) */
	nl.extack[0] = 0;
	if (nl_send_auto(nl.req, msg) < 0)
		ret = -EIO;
	OPENSSL_cleanse(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
	if (++nl.unacked >= NL_UNACKED_MAX) {
		nl.unacked = 0;
		while (recv(nl_socket_get_fd(nl.req), nl.rbuf, sizeof(nl.rbuf),
			    MSG_DONTWAIT) > 0)
			;	/* errors of verbatim sends: nobody waits */
	}
	return ret;
}
