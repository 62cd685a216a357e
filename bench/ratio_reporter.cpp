/* SPDX-License-Identifier: MIT */
#include "ratio_reporter.h"

#include <cstdio>
#include <string>

namespace heapcomp::bench {

void RatioReporter::ReportRuns(const std::vector<Run> &runs)
{
	ConsoleReporter::ReportRuns(runs);
	for (const Run &run : runs) {
		/* Aggregates (mean/median of repetitions) would double-count. */
		if (run.run_type != Run::RT_Iteration && run.aggregate_name != "median")
			continue;
		std::string name = run.run_name.str();
		if (run.error_occurred) {
			skipped_[name] = run.error_message;
			continue;
		}
		if (run.iterations > 0)
			figures_[name] = run.GetAdjustedRealTime() *
						benchmark::GetTimeUnitMultiplier(benchmark::kNanosecond) /
						benchmark::GetTimeUnitMultiplier(run.time_unit);
		for (const auto &[counter, value] : run.counters)
			figures_[name + "#" + counter] = value.value;
	}
}

void RatioReporter::Finalize()
{
	ConsoleReporter::Finalize();

	std::FILE *out = stdout;
	std::fprintf(out, "\nRatios (real time per iteration, or the counters named, same run):\n");
	/* A counter's benchmark: what was skipped, if it was. */
	auto benchmarkOf = [](const std::string &name) { return name.substr(0, name.find('#')); };
	for (const Comparison &c : comparisons_) {
		auto m = figures_.find(c.measured);
		auto b = figures_.find(c.baseline);
		auto s = skipped_.find(benchmarkOf(c.measured));
		/* Filtered out (--benchmark_filter): nothing to say. */
		if (m == figures_.end() && s == skipped_.end())
			continue;
		if (b == figures_.end() && c.quietWithoutBaseline &&
		    !skipped_.count(benchmarkOf(c.baseline)))
			continue;
		if (m == figures_.end() || b == figures_.end() || b->second <= 0) {
			std::string why = "baseline not measured";
			if (s != skipped_.end())
				why = s->second;
			else if (auto bs = skipped_.find(benchmarkOf(c.baseline)); bs != skipped_.end())
				why = "baseline: " + bs->second;
			std::fprintf(out, "  %-66s  n/a (%s)\n", c.what.c_str(), why.c_str());
			continue;
		}
		double ratio = m->second / b->second;
		std::string verdict;
		if (c.target > 0) {
			bool ok = c.lowerIsBetter ? ratio <= c.target : 1.0 / ratio >= c.target;
			char buf[64];
			if (c.lowerIsBetter)
				std::snprintf(buf, sizeof(buf), "target <= %.2fx", c.target);
			else
				std::snprintf(buf, sizeof(buf), "target >= %.0fx faster", c.target);
			verdict = std::string(ok ? "  ok, " : "  MISSED, ") + buf;
			missed_ += !ok;
		}
		if (c.lowerIsBetter || ratio >= 1.0)
			std::fprintf(out, "  %-66s %8.3fx%s\n", c.what.c_str(), ratio,
				     verdict.c_str());
		else
			std::fprintf(out, "  %-66s %8.1fx faster%s\n", c.what.c_str(),
				     1.0 / ratio, verdict.c_str());
	}
	std::fflush(out);
}

} /* namespace heapcomp::bench */
