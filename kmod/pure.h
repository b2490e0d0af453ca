/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types for the pure parts of kdtls (record codec, replay window), so that
 * record.c and replay.c compile unchanged in the module and in the host
 * unit tests (selftests/host/).  Nothing else belongs here.
 */
#ifndef _KDTLS_PURE_H
#define _KDTLS_PURE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/bitops.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#ifndef BITS_PER_LONG
#define BITS_PER_LONG	(8 * (int)sizeof(long))
#endif
#endif

#endif /* _KDTLS_PURE_H */
