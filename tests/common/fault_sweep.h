/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Runs a scenario once per call it makes into the kernel and once per
 * errno, with that one call failing (bufmgr/fault_injection.h), and checks
 * that nothing stays behind: open fds and the manager's live buffers and
 * bytes are back where they started after every run.
 */

#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <bufmgr/fault_injection.h>
#include <bufmgr/log.h>
#include <bufmgr/manager.h>
#include <bufmgr/stats.h>

#include "fd_count.h"

namespace heapcomp::test {

/* The errnos every call is made to fail with. */
inline constexpr int kSweptErrnos[] = { ENOMEM, EINTR, EMFILE, EACCES };

/* What one run with one failed call gave. */
struct FaultOutcome {
	bufmgr::InjectedFault fault;	/* the first injected one */
	size_t faults = 0;		/* how many were injected */
	bufmgr::Result<void> result;
	std::vector<std::string> warnings;	/* the library's log */
};

struct SweepTotals {
	uint64_t calls = 0;	/* calls of the scenario without faults */
	uint64_t runs = 0;	/* runs with an injected fault */
	uint64_t survived = 0;	/* ... that still succeeded */
};

/* What is held now: fds of the process, live buffers and bytes of stats. */
struct Holdings {
	int fds = 0;
	uint64_t liveBuffers = 0;
	uint64_t liveBytes = 0;

	bool operator==(const Holdings &) const = default;
};

inline Holdings holdings(bufmgr::Stats *stats)
{
	Holdings h;
	if (stats) {
		for (const bufmgr::SourceSnapshot &s : stats->snapshot().sources) {
			h.liveBuffers += s.liveBuffers;
			h.liveBytes += s.liveBytes;
		}
	}
	h.fds = countOpenFds();
	return h;
}

inline std::ostream &operator<<(std::ostream &os, const Holdings &h)
{
	return os << h.fds << " fds, " << h.liveBuffers << " live buffers of " << h.liveBytes
		  << " B";
}

/* Collects the library's log while it lives. */
class LogCapture
{
public:
	LogCapture()
	{
		bufmgr::setLogHandler([this](bufmgr::LogLevel level, std::string_view message) {
			if (level >= bufmgr::LogLevel::Warning) {
				std::lock_guard lock(mutex_);
				lines_.emplace_back(message);
			}
		});
	}
	~LogCapture() { bufmgr::setLogHandler(nullptr); }

	std::vector<std::string> take()
	{
		std::lock_guard lock(mutex_);
		return std::exchange(lines_, {});
	}

private:
	std::mutex mutex_;
	std::vector<std::string> lines_;
};

/*
 * Counts the scenario's calls in a clean run, then fails each call with
 * each errno in turn; `check` judges every outcome. The scenario must
 * release everything it made before it returns.
 */
inline SweepTotals sweepFaults(const std::function<bufmgr::Result<void>()> &scenario,
			       bufmgr::Stats *stats,
			       const std::function<void(const FaultOutcome &)> &check)
{
	SweepTotals totals;
	LogCapture log;
	{
		bufmgr::FaultInjection counting;
		auto clean = scenario();
		EXPECT_TRUE(clean) << "without faults: " << clean.error().message();
		totals.calls = counting.calls();
	}
	EXPECT_GT(totals.calls, 0u) << "the scenario makes no call that can fail";
	log.take();

	for (uint64_t index = 1; index <= totals.calls; index++) {
		for (int error : kSweptErrnos) {
			const Holdings before = holdings(stats);
			FaultOutcome outcome;
			{
				bufmgr::FaultInjection faults({ { bufmgr::SysCall::Any, index, error } });
				outcome.result = scenario();
				auto injected = faults.injected();
				outcome.faults = injected.size();
				if (!injected.empty())
					outcome.fault = injected.front();
			}
			outcome.warnings = log.take();
			const std::string what = outcome.faults
				? bufmgr::toString(outcome.fault)
				: "no fault at call " + std::to_string(index) + " (" +
				  strerror(error) + ")";
			SCOPED_TRACE(what);
			/* A scenario's calls are the same every run. */
			EXPECT_EQ(outcome.faults, 1u);
			EXPECT_EQ(holdings(stats), before) << "left behind";
			totals.runs++;
			if (outcome.result)
				totals.survived++;
			check(outcome);
		}
	}
	return totals;
}

/* Calls that bufmgr retries on EINTR, as a signal can interrupt them. */
inline bool retriesEintr(bufmgr::SysCall call)
{
	return call == bufmgr::SysCall::Open || call == bufmgr::SysCall::Ioctl ||
	       call == bufmgr::SysCall::Ftruncate || call == bufmgr::SysCall::Write;
}

/* True if every word occurs in text. */
inline ::testing::AssertionResult mentions(const std::string &text,
					   std::initializer_list<std::string> words)
{
	for (const std::string &word : words) {
		if (text.find(word) == std::string::npos)
			return ::testing::AssertionFailure()
			       << "'" << word << "' missing from: " << text;
	}
	return ::testing::AssertionSuccess();
}

/*
 * The outcome of a path with no fallback: EINTR on a call bufmgr retries
 * is survived; any other fault fails with its errno and a message naming
 * every word.
 */
inline void expectRetriedOrFailed(const FaultOutcome &o, std::initializer_list<std::string> words)
{
	if (o.fault.error == EINTR && retriesEintr(o.fault.call)) {
		EXPECT_TRUE(o.result);
		return;
	}
	ASSERT_FALSE(o.result);
	EXPECT_EQ(o.result.error().code, o.fault.error);
	EXPECT_TRUE(mentions(o.result.error().context, words));
}

} /* namespace heapcomp::test */
