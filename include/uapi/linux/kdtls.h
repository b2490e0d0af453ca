/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * kdtls: DTLS 1.2 record layer for UDP sockets — user API.
 *
 * Everything userspace can see of kdtls.ko lives in this file: the generic
 * netlink family (see Documentation/netlink/specs/kdtls.yaml, which is the
 * source of truth for every attribute below), the control-message level and
 * types used on attached sockets, and the statistics identifiers.
 *
 * All enums are append-only.
 */
#ifndef _UAPI_LINUX_KDTLS_H
#define _UAPI_LINUX_KDTLS_H

#include <linux/types.h>

#define KDTLS_GENL_NAME		"kdtls"
#define KDTLS_GENL_VERSION	1
#define KDTLS_MCGRP_EVENTS	"events"

/* DTLS 1.2 on the wire (RFC 6347 §4.1). */
#define KDTLS_VERSION_1_2	0xfefd

/* Record content types (RFC 5246 §6.2.1). */
#define KDTLS_CT_CHANGE_CIPHER_SPEC	20
#define KDTLS_CT_ALERT			21
#define KDTLS_CT_HANDSHAKE		22
#define KDTLS_CT_APPLICATION_DATA	23

/*
 * Control messages on an attached socket.  A datagram that is not
 * application data (handshake, alert, ChangeCipherSpec, or a datagram from a
 * peer without an association) is delivered to the application only when
 * the socket has no handshake agent, and then only with a cmsg of level
 * SOL_KDTLS and type KDTLS_CMSG_RECORD_TYPE carrying one __u8: the content
 * type of the first record.  A receive without room for control messages
 * never returns such a datagram (it is dropped and counted as no_agent).
 * An alert opened under a known epoch is returned in plaintext with
 * KDTLS_CMSG_RECORD_TYPE = 21 and MSG_EOR set.
 */
#define SOL_KDTLS		0x4b44	/* "KD"; not a registered SOL_* value */
#define KDTLS_CMSG_RECORD_TYPE	1

enum kdtls_cipher {
	KDTLS_CIPHER_UNSPEC,
	KDTLS_CIPHER_AES_128_GCM,	/* RFC 5288: key 16, salt 4, tag 16 */
	KDTLS_CIPHER_AES_256_GCM,	/* RFC 5288: key 32, salt 4, tag 16 */
	KDTLS_CIPHER_CHACHA20_POLY1305,	/* RFC 7905: key 32, iv 12, tag 16 */
	KDTLS_CIPHER_AES_128_CCM,	/* RFC 6655: key 16, salt 4, tag 16 */
	KDTLS_CIPHER_AES_128_CCM_8,	/* RFC 6655: key 16, salt 4, tag 8 */
	/* append only */
	__KDTLS_CIPHER_MAX,
};

/* KDTLS_A_SOCK_FLAGS */
enum kdtls_sock_flags {
	/* the caller's netlink socket becomes the socket's handshake agent */
	KDTLS_SOCK_F_AGENT = 1U << 0,
};
#define KDTLS_SOCK_F_ALL	(KDTLS_SOCK_F_AGENT)

/* KDTLS_A_RECORD_FLAGS */
enum kdtls_record_flags {
	/* RECORD_SEND: seal DATA as one record of TYPE under the current TX
	 * epoch with the kernel's next sequence number.  Without it, DATA is
	 * sent verbatim and must consist of whole records, all of epoch 0 once
	 * the peer has an association.
	 */
	KDTLS_RECORD_F_SEAL = 1U << 0,
	/* RECORD notification: DATA is the plaintext of a record the kernel
	 * opened under EPOCH/SEQ (an alert or handshake record of a known
	 * epoch); without it, DATA is the datagram exactly as received.
	 */
	KDTLS_RECORD_F_OPENED = 1U << 1,
};
#define KDTLS_RECORD_F_ALL	(KDTLS_RECORD_F_SEAL | KDTLS_RECORD_F_OPENED)

enum kdtls_cmd {
	KDTLS_CMD_UNSPEC,
	KDTLS_CMD_SOCK_ATTACH,
	KDTLS_CMD_SOCK_DETACH,
	KDTLS_CMD_SOCK_GET,
	KDTLS_CMD_ASSOC_ADD,
	KDTLS_CMD_ASSOC_DEL,
	KDTLS_CMD_ASSOC_REKEY,
	KDTLS_CMD_ASSOC_GET,
	KDTLS_CMD_RECORD_SEND,
	KDTLS_CMD_RECORD,		/* notification to the agent */
	KDTLS_CMD_ASSOC_DEL_NTF,	/* multicast "events" */
	KDTLS_CMD_SOCK_DETACH_NTF,	/* multicast "events" */
	KDTLS_CMD_SOCK_SET,
	/* append only */
	__KDTLS_CMD_MAX,
};
#define KDTLS_CMD_MAX	(__KDTLS_CMD_MAX - 1)

enum kdtls_a {
	KDTLS_A_UNSPEC,
	KDTLS_A_SOCK_FD,		/* u32 */
	KDTLS_A_SOCK_ID,		/* u32 */
	KDTLS_A_SOCK_FLAGS,		/* u32, enum kdtls_sock_flags */
	KDTLS_A_SOCK_MAX_ASSOCS,	/* u32 */
	KDTLS_A_SOCK_FAMILY,		/* u16, AF_INET or AF_INET6 */
	KDTLS_A_SOCK_NUM_ASSOCS,	/* u32 */
	KDTLS_A_SOCK_AGENT_PORTID,	/* u32 */
	KDTLS_A_SOCK_STATS,		/* nest, enum kdtls_stat */
	KDTLS_A_PEER_ADDR4,		/* binary[4], network order */
	KDTLS_A_PEER_ADDR6,		/* binary[16] */
	KDTLS_A_PEER_PORT,		/* be16 */
	KDTLS_A_ASSOC_VERSION,		/* u16, KDTLS_VERSION_1_2 */
	KDTLS_A_ASSOC_CIPHER,		/* u16, enum kdtls_cipher */
	KDTLS_A_ASSOC_TX,		/* nest, enum kdtls_a_key */
	KDTLS_A_ASSOC_RX,		/* nest, enum kdtls_a_key */
	KDTLS_A_ASSOC_REPLAY_WINDOW,	/* u32 */
	KDTLS_A_ASSOC_RX_GRACE_MS,	/* u32 */
	KDTLS_A_ASSOC_MAX_PAYLOAD,	/* u32 */
	KDTLS_A_ASSOC_STATS,		/* nest, enum kdtls_stat */
	KDTLS_A_RECORD_TYPE,		/* u8 */
	KDTLS_A_RECORD_FLAGS,		/* u32, enum kdtls_record_flags */
	KDTLS_A_RECORD_DATA,		/* binary */
	KDTLS_A_RECORD_EPOCH,		/* u16 */
	KDTLS_A_RECORD_SEQ,		/* u64 */
	KDTLS_A_PAD,
	KDTLS_A_SOCK_GRO,		/* u8: 1 = UDP GRO for the reader */
	/* append only */
	__KDTLS_A_MAX,
};
#define KDTLS_A_MAX	(__KDTLS_A_MAX - 1)

/* Nested in KDTLS_A_ASSOC_TX / KDTLS_A_ASSOC_RX. */
enum kdtls_a_key {
	KDTLS_A_KEY_UNSPEC,
	KDTLS_A_KEY_EPOCH,	/* u16 */
	KDTLS_A_KEY_SEQ,	/* u64, 48 bits used; TX: next sequence number,
				 * RX: lowest sequence number still accepted */
	KDTLS_A_KEY_KEY,	/* binary, exact size per cipher; write-only */
	KDTLS_A_KEY_SALT,	/* binary, 4 (GCM, CCM) or 12 (ChaCha20); write-only */
	KDTLS_A_KEY_PAD,
	/* append only */
	__KDTLS_A_KEY_MAX,
};
#define KDTLS_A_KEY_MAX	(__KDTLS_A_KEY_MAX - 1)

/*
 * Statistics.  In KDTLS_A_SOCK_STATS and KDTLS_A_ASSOC_STATS each counter is
 * a u64 attribute whose type is its enum value; /proc/net/kdtls/stat prints
 * the same counters for the whole network namespace, by name.
 */
enum kdtls_stat {
	KDTLS_STAT_UNSPEC,
	KDTLS_STAT_TX_RECORDS,		/* records sealed and handed to UDP */
	KDTLS_STAT_TX_BYTES,		/* plaintext bytes in those records */
	KDTLS_STAT_TX_ERRORS,		/* sends that failed after sealing */
	KDTLS_STAT_TX_NO_ASSOC,		/* sends refused: no association */
	KDTLS_STAT_RX_RECORDS,		/* application records delivered */
	KDTLS_STAT_RX_BYTES,		/* plaintext bytes delivered */
	KDTLS_STAT_RX_TO_AGENT,		/* datagrams passed to the agent */
	KDTLS_STAT_RX_TO_APP,		/* non-data datagrams passed to the app */
	KDTLS_STAT_DROP_MALFORMED,	/* truncated, length mismatch, empty */
	KDTLS_STAT_DROP_VERSION,	/* not DTLS 1.2 */
	KDTLS_STAT_DROP_TYPE,		/* unknown content type */
	KDTLS_STAT_DROP_EPOCH,		/* epoch with no key */
	KDTLS_STAT_DROP_REPLAY,		/* duplicate or older than the window */
	KDTLS_STAT_DROP_AUTH,		/* AEAD tag did not verify */
	KDTLS_STAT_DROP_TOO_BIG,	/* longer than 2^14 + expansion */
	KDTLS_STAT_DROP_NO_AGENT,	/* non-data record, nobody to take it */
	KDTLS_STAT_DROP_AGENT_BUSY,	/* agent's netlink queue full or gone */
	KDTLS_STAT_DROP_NOMEM,		/* allocation failure */
	KDTLS_STAT_REKEY_TX,		/* TX epochs installed after the first */
	KDTLS_STAT_REKEY_RX,		/* RX epochs installed after the first */
	/* append only */
	__KDTLS_STAT_MAX,
};
#define KDTLS_STAT_MAX	(__KDTLS_STAT_MAX - 1)

/* Limits (Documentation/kdtls.rst lists them all). */
#define KDTLS_MAX_PLAINTEXT		16384	/* 2^14, RFC 6347 §4.1 */
#define KDTLS_REPLAY_WINDOW_DEFAULT	64
#define KDTLS_REPLAY_WINDOW_MAX		1024
#define KDTLS_RX_GRACE_MS_DEFAULT	10000
#define KDTLS_RX_GRACE_MS_MAX		600000
#define KDTLS_MAX_ASSOCS_DEFAULT	262144

#endif /* _UAPI_LINUX_KDTLS_H */
