/* SPDX-License-Identifier: MIT */
#include "sys.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <bufmgr/stats.h>

namespace bufmgr {

namespace internal {

std::atomic<bool> faultsArmed{ false };

namespace {

constexpr size_t kKinds = static_cast<size_t>(SysCall::Any) + 1;

struct ArmedRule {
	FaultRule rule;
	uint64_t matched = 0;
};

/* What a living FaultInjection set up; guarded by mutex. */
struct FaultState {
	std::mutex mutex;
	bool active = false;
	std::vector<ArmedRule> rules;
	std::array<uint64_t, kKinds> calls{};	/* the Any slot counts all */
	std::vector<InjectedFault> injected;
};

/* Never destroyed: bufmgr may make calls during static destruction. */
FaultState &faultState()
{
	static FaultState *state = new FaultState;
	return *state;
}

} /* namespace */

int injectFault(SysCall call, unsigned long ioctlRequest)
{
	FaultState &state = faultState();
	std::lock_guard lock(state.mutex);
	if (!state.active)
		return 0;
	state.calls[static_cast<size_t>(call)]++;
	const uint64_t index = ++state.calls[static_cast<size_t>(SysCall::Any)];

	int error = 0;
	for (ArmedRule &armed : state.rules) {
		const FaultRule &rule = armed.rule;
		if (rule.call != SysCall::Any && rule.call != call)
			continue;
		if (rule.ioctlRequest && rule.ioctlRequest != ioctlRequest)
			continue;
		const uint64_t n = ++armed.matched;
		/* The first rule that fires decides; the others still count. */
		if (!error && n >= rule.nth && n - rule.nth < rule.times)
			error = rule.error;
	}
	if (error)
		state.injected.push_back({ call, index, error,
					   call == SysCall::Ioctl ? ioctlRequest : 0 });
	return error;
}

} /* namespace internal */

std::string_view toString(SysCall call)
{
	switch (call) {
	case SysCall::Open: return "open";
	case SysCall::Ioctl: return "ioctl";
	case SysCall::Mmap: return "mmap";
	case SysCall::Munmap: return "munmap";
	case SysCall::MemfdCreate: return "memfd_create";
	case SysCall::Ftruncate: return "ftruncate";
	case SysCall::Fcntl: return "fcntl";
	case SysCall::Write: return "write";
	case SysCall::GbmCreateDevice: return "gbm_create_device";
	case SysCall::GbmBoCreate: return "gbm_bo_create";
	case SysCall::GbmBoGetFd: return "gbm_bo_get_fd_for_plane";
	case SysCall::Any: return "any";
	}
	return "unknown";
}

std::string toString(const InjectedFault &fault)
{
	std::string s = errnoName(fault.error) + " in " + std::string(toString(fault.call)) +
			" at call " + std::to_string(fault.index);
	if (fault.ioctlRequest) {
		char hex[32];
		std::snprintf(hex, sizeof(hex), " (request 0x%lx)", fault.ioctlRequest);
		s += hex;
	}
	return s;
}

FaultInjection::FaultInjection(std::vector<FaultRule> rules)
{
	internal::FaultState &state = internal::faultState();
	std::lock_guard lock(state.mutex);
	if (state.active) {
		std::fprintf(stderr, "bufmgr: a FaultInjection is already active\n");
		std::abort();
	}
	state.active = true;
	state.rules.clear();
	for (FaultRule &rule : rules)
		state.rules.push_back({ rule, 0 });
	state.calls.fill(0);
	state.injected.clear();
	internal::faultsArmed.store(true, std::memory_order_relaxed);
}

FaultInjection::~FaultInjection()
{
	internal::FaultState &state = internal::faultState();
	std::lock_guard lock(state.mutex);
	internal::faultsArmed.store(false, std::memory_order_relaxed);
	state.active = false;
}

uint64_t FaultInjection::calls(SysCall call) const
{
	internal::FaultState &state = internal::faultState();
	std::lock_guard lock(state.mutex);
	return state.calls[static_cast<size_t>(call)];
}

std::vector<InjectedFault> FaultInjection::injected() const
{
	internal::FaultState &state = internal::faultState();
	std::lock_guard lock(state.mutex);
	return state.injected;
}

} /* namespace bufmgr */
