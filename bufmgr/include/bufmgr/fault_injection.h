/* SPDX-License-Identifier: MIT */
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bufmgr {

/* The calls bufmgr makes into the kernel and libgbm, as faults name them. */
enum class SysCall : uint8_t {
	Open,
	Ioctl,
	Mmap,
	Munmap,
	MemfdCreate,
	Ftruncate,
	Fcntl,		/* seals and F_DUPFD_CLOEXEC (every fd bufmgr dups) */
	Write,
	GbmCreateDevice,
	GbmBoCreate,	/* gbm_bo_create and gbm_bo_create_with_modifiers2 */
	GbmBoGetFd,	/* gbm_bo_get_fd_for_plane */
	Any,		/* in a rule: a call of any kind */
};

std::string_view toString(SysCall call);

/*
 * Makes calls fail: from the nth call that matches (1 = the first after
 * the FaultInjection was made), `times` matching calls in a row fail with
 * `error` instead of being made. Every other call is made as usual.
 */
struct FaultRule {
	SysCall call = SysCall::Any;
	uint64_t nth = 1;
	int error = ENOMEM;
	uint32_t times = 1;
	/* Ioctl only: match this request (DMA_HEAP_IOCTL_ALLOC, ...); 0: any. */
	unsigned long ioctlRequest = 0;
};

/* One call that was made to fail. */
struct InjectedFault {
	SysCall call;
	uint64_t index;			/* among all calls since arming, from 1 */
	int error;
	unsigned long ioctlRequest;	/* 0 unless an ioctl */
};

/*
 * Test hook: while one lives, bufmgr counts its calls into the kernel and
 * libgbm (see SysCall) and fails those its rules match. Without rules it
 * only counts, which tells a test how many calls a scenario makes.
 *
 * Process-wide, one at a time (a second one aborts): calls of every
 * thread are counted, so a test that sweeps call indices runs bufmgr on
 * one thread. When none lives, a call costs one relaxed atomic load.
 */
class FaultInjection
{
public:
	explicit FaultInjection(std::vector<FaultRule> rules = {});
	~FaultInjection();
	FaultInjection(const FaultInjection &) = delete;
	FaultInjection &operator=(const FaultInjection &) = delete;

	/* Calls of this kind so far, failed ones included. */
	uint64_t calls(SysCall call = SysCall::Any) const;
	std::vector<InjectedFault> injected() const;
};

/* "ENOMEM at call 3 (ioctl 0xc0184800)", for test messages. */
std::string toString(const InjectedFault &fault);

} /* namespace bufmgr */
