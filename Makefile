# SPDX-License-Identifier: GPL-2.0
#
# kdtls -- DTLS 1.2 record layer for UDP sockets.
#
#   make [all]          module + userspace + selftests
#   make module         kdtls.ko for each kernel in KERNELS
#                       (build/<release>/kmod/kdtls.ko); C=1 W=1 run sparse
#   make userspace      userspace/ (daemon, library, tools)
#   make selftests      selftests/ (host and VM test binaries)
#   make check          deps, all, host tests, then the VM tests on each kernel
#   make demo           scripts/demo.sh in the VM
#   make bench          selftests/bench.sh in the VM
#   make fuzz           each host libFuzzer target FUZZ_TIME s (default 600)
#   make install        kdtls.ko for KERNEL (default: the running one),
#                       userspace, and the uAPI header
#   make deps           install the Debian packages all of this needs
#   make kernels        print the kernel releases KERNELS resolves to
#   make debug-kernel   build (once per machine, cached) the debug kernel
#                       that KERNEL=debug names: scripts/debug-kernel
#   make clean
#
# Kernels: KERNELS lists Debian kernel series or full releases, resolved by
# scripts/kver to what is installed (6.1 -> linux-image-amd64's ABI, 6.12 ->
# linux-image-6.12-amd64's), so no ABI version is written down anywhere.
#   make module KERNEL=6.12               one kernel, series or release
#   make module KDIR=/path/to/kernel/tree one kernel tree (built or headers)
#   make module KERNEL=debug              the debug kernel (KASAN, lockdep,
#                                         kmemleak, ...; make debug-kernel)
#
# An external module is built in its own directory, so each kernel gets a
# copy of the sources in build/<release>/ (Kbuild, kmod/, include/; only
# changed files are copied) and Kbuild runs there.  The VM harness is
# scripts/vm-run; its guest side lives in selftests/vm/.

KERNELS		?= 6.1 6.12
ifneq ($(KERNEL),)
KERNELS		:= $(KERNEL)
endif

# Full releases, e.g. "6.1.0-56-amd64 6.12.117+deb12-amd64".  Deferred ('=')
# so that it is evaluated after `make deps` has installed the kernels.
ifneq ($(KDIR),)
kvers		 = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
			$(KDIR)/include/generated/utsrelease.h)
else
kvers		 = $(shell scripts/kver $(KERNELS))
endif
kdir		 = $(or $(KDIR),$(if $(filter %-kdtls-debug,$(1)), \
			$(shell scripts/debug-kernel --dir), \
			/lib/modules/$(1)/build))

# The kernel `make install` is for: KERNEL or KDIR, else the running one.
install_kver	 = $(if $(KERNEL)$(KDIR),$(firstword $(kvers)), \
			$(shell scripts/kver $(shell uname -r)))
# The kernel demo and bench boot: the last of KERNELS (6.12 by default).
vm_kver		 = $(lastword $(kvers))

# Everything the build, the tests and the VM need, on a fresh Debian 12.
# (No tshark: its debconf question stops a non-interactive install.)
DEB_PACKAGES	:= gcc g++ make bc flex bison pkg-config kmod cpio xz-utils \
		   libelf-dev sparse clang llvm libclang-rt-14-dev \
		   linux-image-amd64 linux-headers-amd64 \
		   linux-image-6.12-amd64 linux-headers-6.12-amd64 \
		   linux-source-6.1 \
		   qemu-system-x86 busybox-static iproute2 \
		   libnl-genl-3-dev liburing-dev libssl-dev openssl gnutls-bin \
		   python3 python3-yaml

.PHONY: all deps module userspace selftests examples bench-tools check demo \
	bench install clean \
	kernels debug-kernel fuzz FORCE

all: module userspace selftests examples bench-tools

deps:
	@scripts/deps $(DEB_PACKAGES)

kernels:
	@echo $(kvers)

debug-kernel:
	@scripts/debug-kernel >/dev/null

# ---- kdtls.ko, once per kernel ------------------------------------------

module: $(addprefix module-,$(kvers))
	@test -n "$(kvers)" || { echo "no kernel found for KERNELS='$(KERNELS)' (make deps)"; exit 1; }

module-%: FORCE
	@scripts/sync-tree build/$* Kbuild kmod include
	$(MAKE) -C $(call kdir,$*) M=$(CURDIR)/build/$* \
		$(if $(C),C=$(C)) $(if $(W),W=$(W)) modules

# ---- userspace and tests (tolerated while they do not exist yet) --------

userspace:
ifneq ($(wildcard userspace/Makefile),)
	$(MAKE) -C userspace
else
	@echo "  SKIP    userspace (no userspace/Makefile)"
endif

# the echo examples (make demo) and the benchmark programs (make bench)
# (after userspace: both build userspace/libkdtls, which the echo examples link)
examples: userspace
	$(MAKE) -C examples

bench-tools:
	$(MAKE) -C selftests/bench

selftests: userspace
ifneq ($(wildcard selftests/Makefile),)
	$(MAKE) -C selftests
else
	@echo "  SKIP    selftests (no selftests/Makefile)"
endif

# ---- running things -----------------------------------------------------

# Stage by stage, with timings and one closing "N passed, N failed" line:
# see scripts/check.
check:
	@MAKE='$(MAKE)' scripts/check

demo: deps
	@$(MAKE) all
	@if [ -x scripts/demo.sh ]; then \
		scripts/vm-run --kernel $(vm_kver) -- scripts/demo.sh; \
	else \
		echo "no scripts/demo.sh yet"; \
	fi

bench: deps
	@$(MAKE) all
	@selftests/bench/hs-bench.sh --cookie	# kdtlsd cookies, on the host
	@if [ -x selftests/bench.sh ]; then \
		scripts/vm-run --kernel $(vm_kver) --smp 2 --timeout 1500 \
			-- selftests/bench.sh; \
	else \
		echo "no selftests/bench.sh yet"; \
	fi

# Host fuzzing, long run (make check runs each target 20 s):
# selftests/fuzz/run.sh, Documentation/testing.rst "Fuzzing".
FUZZ_TIME	?= 600
fuzz:
	$(MAKE) -C selftests fuzz FUZZ_TIME=$(FUZZ_TIME)

# ---- install and clean --------------------------------------------------

install:
	@test -n "$(install_kver)" || { echo "no kernel '$(or $(KERNEL),$(shell uname -r))' installed"; exit 1; }
	$(MAKE) module KERNELS=$(install_kver)
	$(MAKE) -C $(call kdir,$(install_kver)) M=$(CURDIR)/build/$(install_kver) \
		INSTALL_MOD_DIR=updates $(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) \
		modules_install
	$(if $(DESTDIR),,depmod -a $(install_kver))
ifneq ($(wildcard userspace/Makefile),)
	$(MAKE) -C userspace install
endif
	install -D -m 0644 include/uapi/linux/kdtls.h $(DESTDIR)/usr/include/linux/kdtls.h

clean:
	rm -rf build
	$(MAKE) -C examples clean
	$(MAKE) -C selftests/bench clean
ifneq ($(wildcard userspace/Makefile),)
	$(MAKE) -C userspace clean
endif
ifneq ($(wildcard selftests/Makefile),)
	$(MAKE) -C selftests clean
endif

FORCE:
