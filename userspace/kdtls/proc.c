// SPDX-License-Identifier: GPL-2.0
/*
 * kdtls: which process holds a generic netlink port id -- a socket's
 * handshake agent, as the kernel reports it (agent-portid).
 *
 * A port id is not a pid (libnl picks pid + a counter; any process may
 * bind any free id), so guessing from the number would mislead.  Instead,
 * as `ss -p` does: /proc/net/netlink maps the port id to the socket's
 * inode, and the process whose /proc/PID/fd has "socket:[INODE]" is the
 * holder.  Needs root (or the same user) to read other processes' fds;
 * when the owner cannot be told, the caller prints the port id alone.
 */
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define NETLINK_GENERIC_PROTO	16

static int portid_inode(uint32_t portid, unsigned long *inode)
{
	FILE *f = fopen("/proc/net/netlink", "r");
	char line[256];
	int ret = -1;

	if (!f)
		return -1;
	/* sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode */
	while (fgets(line, sizeof(line), f)) {
		unsigned long ino;
		unsigned int proto;
		uint32_t pid;

		if (sscanf(line, "%*s %u %" SCNu32 " %*s %*s %*s %*s %*s %*s %lu",
			   &proto, &pid, &ino) != 3)
			continue;	/* the header */
		if (proto == NETLINK_GENERIC_PROTO && pid == portid) {
			*inode = ino;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static bool holds_inode(long pid, const char *want)
{
	char path[PATH_MAX], link[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd/%s", pid,
			 de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, want);
	}
	closedir(d);
	return found;
}

static int lookup(uint32_t portid, char *buf, size_t len)
{
	char want[48], comm[32] = "?", path[64];
	unsigned long inode;
	struct dirent *de;
	int ret = -1;
	DIR *d;

	if (portid_inode(portid, &inode))
		return -1;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *end;
		long pid;
		FILE *f;

		pid = strtol(de->d_name, &end, 10);
		if (!isdigit((unsigned char)de->d_name[0]) || *end ||
		    !holds_inode(pid, want))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		snprintf(buf, len, "%s[%ld]", comm, pid);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

/*
 * "kdtlsd[212]" into @buf; -1 if nobody visible holds @portid.  Sockets
 * usually share one agent: the last answer is remembered.
 */
int kcli_netlink_owner(uint32_t portid, char *buf, size_t len)
{
	static struct {
		bool valid;
		uint32_t portid;
		int ret;
		char owner[64];
	} last;

	if (!last.valid || last.portid != portid) {
		last.portid = portid;
		last.ret = lookup(portid, last.owner, sizeof(last.owner));
		last.valid = true;
	}
	if (!last.ret)
		snprintf(buf, len, "%s", last.owner);
	return last.ret;
}
