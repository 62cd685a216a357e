/* SPDX-License-Identifier: MIT */
#pragma once

#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace heapcomp::bench {

/*
 * A figure is only meaningful against a baseline from the same run on the
 * same machine. Each comparison names a measured benchmark and its
 * baseline; after the run the reporter prints their ratio of real time
 * per iteration and whether it meets the target. "name#counter" names a
 * benchmark's counter instead (two measured inside one benchmark).
 */
struct Comparison {
	std::string measured;
	std::string baseline;
	std::string what;
	double target = 0;		/* 0: no target */
	bool lowerIsBetter = true;	/* measured/baseline must be <= target */
	bool quietWithoutBaseline = false;	/* a reference: nothing to say if not run */
};

class RatioReporter : public benchmark::ConsoleReporter
{
public:
	explicit RatioReporter(std::vector<Comparison> comparisons)
		: comparisons_(std::move(comparisons)) {}

	void ReportRuns(const std::vector<Run> &runs) override;
	void Finalize() override;

	/* Ratios that had both figures and missed their target. */
	int missedTargets() const { return missed_; }

private:
	std::vector<Comparison> comparisons_;
	/* ns per iteration by benchmark, and counters as "name#counter"; medians with repetitions. */
	std::map<std::string, double> figures_;
	std::map<std::string, std::string> skipped_;
	int missed_ = 0;
};

} /* namespace heapcomp::bench */
