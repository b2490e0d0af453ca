# SPDX-License-Identifier: GPL-2.0
#
# selftests/lib/testca.sh -- a throw-away CA and server certificate, made
# at run time with the openssl command (sourced by the example tests and
# scripts/demo.sh; never commit the output).
#
#   testca_make DIR   DIR/ca.pem (ECDSA P-256 CA), DIR/server.pem and
#                     DIR/server.key (CN and DNS name kdtls.test, IP
#                     127.0.0.1 and ::1), valid two days; openssl's output
#                     in DIR/openssl.log; status 0 on success

testca_make()
{
	local d=$1

	{
		openssl ecparam -name prime256v1 -genkey -noout \
			-out "$d/ca.key" &&
		openssl req -x509 -new -key "$d/ca.key" -subj /CN=kdtls-test-ca \
			-days 2 -out "$d/ca.pem" &&
		openssl ecparam -name prime256v1 -genkey -noout \
			-out "$d/server.key" &&
		openssl req -new -key "$d/server.key" -subj /CN=kdtls.test \
			-out "$d/server.csr" &&
		printf 'subjectAltName=DNS:kdtls.test,IP:127.0.0.1,IP:::1\n' \
			> "$d/server.ext" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
			-CAkey "$d/ca.key" -CAcreateserial -days 2 \
			-extfile "$d/server.ext" -out "$d/server.pem"
	} > "$d/openssl.log" 2>&1
}
