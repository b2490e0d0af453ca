// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkdtls: QDtlsError, its names, and the last error of an object.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const names[] = {
	[KDTLS_ERR_NONE] = "NoError",
	[KDTLS_ERR_INVALID_INPUT] = "InvalidInputParameters",
	[KDTLS_ERR_INVALID_OPERATION] = "InvalidOperation",
	[KDTLS_ERR_SOCKET] = "UnderlyingSocketError",
	[KDTLS_ERR_REMOTE_CLOSED] = "RemoteClosedConnectionError",
	[KDTLS_ERR_PEER_VERIFICATION] = "PeerVerificationError",
	[KDTLS_ERR_TLS_INIT] = "TlsInitializationError",
	[KDTLS_ERR_TLS_FATAL] = "TlsFatalError",
	[KDTLS_ERR_TLS_NON_FATAL] = "TlsNonFatalError",
};

KDTLS_EXPORT const char *kdtls_error_name(enum kdtls_error err)
{
	if ((unsigned int)err >= ARRAY_SIZE(names))
		return NULL;
	return names[err];
}

/* Returns @ret, so that "return kdtls_err_set(...)" reads naturally. */
int kdtls_err_set(struct kdtls_err *e, enum kdtls_error code, int ret,
		  const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return ret;
}

void kdtls_err_clear(struct kdtls_err *e)
{
	e->code = KDTLS_ERR_NONE;
	e->text[0] = 0;
}
