/* SPDX-License-Identifier: MIT */
/*
 * Compositor CPU time per frame presented, heapcomp against sway and
 * weston in the same run. Each compositor runs headless in its own
 * XDG_RUNTIME_DIR with one bench_client redrawing on every frame
 * callback; after a warm-up, every iteration is one frame callback and
 * its time is the CPU (user + system, all threads, and the processes
 * the compositor started) the compositor used since the previous one.
 * The kernel_share counter says how much of it was system time: on the
 * DRM backend, the driver's atomic commits among it.
 *
 * The baseline of every figure, measured in the same run, is one memcpy
 * of the bytes the client changed that frame: the whole buffer or its
 * 64 px column, row by row. A compositor that must look at each damaged
 * pixel once costs at least that. It is copied once per 60 Hz refresh,
 * as a compositor copies: after 16 ms idle the caches are cold, and one
 * copy costs several times what the same copy repeated back to back does.
 * That back-to-back copy is measured too, and shown beside it.
 * heapcomp's pixman frames that compose a full damage are held to at
 * most twice that copy; the rest are shown without a target.
 *
 * Beside them, before each workload's compositors, the wakeup floor
 * (wakeup_floor.h): the CPU of a process that only wakes on a 60 Hz timer
 * and on its client's answer, as every compositor here is woken each
 * frame. A reference, not a bound: a compositor doing real work is a
 * bigger process. But a scanned-out frame that cost no more than the
 * floor would be (composed frame / floor) times cheaper than a composed
 * one, and no more.
 *
 * A fullscreen client's buffer fills its output, so a compositor may show
 * it as it is (direct scanout); a window is 64 px smaller than its output
 * each way, so every compositor must compose it. heapcomp-gles-composed
 * and heapcomp-pixman-composed compose fullscreen frames too, and are
 * compared with heapcomp-gles and heapcomp-pixman; heapcomp-drm-pixman
 * (-composed) do the same on the DRM backend, where a KMS device exists.
 * heapcomp-pixman-overlay and heapcomp-drm-pixman-overlay show the
 * statistics overlay and hide it in turns (heapctl overlay show|hide):
 * their frames with it are compared with their frames without it.
 * Headless the overlay is composed, so every frame is, shown or not; on
 * DRM it has a plane of its own, and a fullscreen client stays scanned
 * out under it. Their fps and zero-copy columns count both turns' frames.
 *
 * Options before the benchmark's own:
 *   --heapcomp PATH      (default: ../compositor/heapcomp beside this program)
 *   --client PATH        (default: ../clients/bench_client)
 *   --compositors LIST   comma-separated (default: all)
 *   --frames N           measured frames per workload (default 300)
 *   --dmabuf-heap NAME   client buffers from /dev/dma_heap/NAME (default wl_shm)
 *   --client-format F    xrgb (default), or argb: ARGB8888 buffers whose
 *                        surface is declared opaque, as toolkits draw
 *   --warmup N           frames before measuring (default 30)
 *   --frame-timeout S    longest wait for one frame, in seconds (default 2;
 *                        more in the test VM, where frames are slow)
 */
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "compositor_session.h"
#include "ratio_reporter.h"
#include "wakeup_floor.h"

using namespace heapcomp::bench;

namespace {

struct Settings {
	std::string heapcomp;
	std::string client;
	std::vector<std::string> compositors;	/* empty: all */
	std::string dmabufHeap;			/* "": wl_shm */
	std::string clientFormat = "xrgb";
	long frames = 300;
	long warmup = 30;
	int frameTimeoutMs = 2000;
};

Settings settings;

/* A scanned-out frame costs at most a tenth of a composed one. */
constexpr double kScanoutTarget = 10;
/* The statistics overlay may add a tenth to a composed frame. */
constexpr double kOverlayTarget = 1.10;
/* Pixman composes a fully damaged frame for at most two copies of it. */
constexpr double kComposeTarget = 2;

double monotonicSeconds()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double loadAverage()
{
	std::ifstream in("/proc/loadavg");
	double load = 0;
	in >> load;
	return load;
}

void memcpyBaseline(benchmark::State &state, size_t bytes)
{
	std::vector<uint8_t> src(bytes, 1), dst(bytes, 0);
	for (auto _ : state) {
		std::memcpy(dst.data(), src.data(), bytes);
		benchmark::ClobberMemory();
	}
	state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
}

/*
 * The damaged rows of a frame, copied once per refresh period; only the
 * copy is timed.
 */
void memcpyPaced(benchmark::State &state, Workload workload)
{
	const size_t stride = size_t(workload.width) * 4;
	const size_t rowBytes = workload.columnDamage ? 64 * 4 : stride;
	std::vector<uint8_t> src(stride * workload.height, 1), dst(src.size(), 0);
	constexpr long kPeriodNs = 1'000'000'000L / 60;
	timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (auto _ : state) {
		next.tv_nsec += kPeriodNs;
		if (next.tv_nsec >= 1'000'000'000L) {
			next.tv_sec++;
			next.tv_nsec -= 1'000'000'000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
		}
		const double start = monotonicSeconds();
		if (rowBytes == stride)
			std::memcpy(dst.data(), src.data(), src.size());
		else
			for (size_t y = 0; y < size_t(workload.height); y++)
				std::memcpy(dst.data() + y * stride, src.data() + y * stride,
					    rowBytes);
		benchmark::ClobberMemory();
		state.SetIterationTime(monotonicSeconds() - start);
	}
	state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(workload.damagedBytes()));
}

/*
 * The overlay's cost is measured inside one session: shown for a turn of
 * frames, hidden for the next, and so on, with as many frames each way.
 * Two sessions of the same compositor differ by more than the overlay
 * costs (a quarter, in the test VM). A turn holds two of its redraws.
 */
constexpr long kOverlayTurn = 60;
/* Frames left out after each switch: showing draws it at once, hiding composes once more. */
constexpr long kOverlaySettle = 10;

/* CPU per frame over some frames, and the overlay's own share of it. */
struct Tally {
	double cpu = 0;
	long frames = 0;
	uint64_t overlayNs = 0;
	uint64_t overlayRedraws = 0;
};

void compositorFrames(benchmark::State &state, const Compositor *compositor, Workload workload)
{
	if (!compositor->skipReason.empty()) {
		state.SkipWithError(compositor->skipReason.c_str());
		return;
	}
	const bool inTurns = compositor->overlayInTurns;
	const long turns = (settings.frames + kOverlayTurn - 1) / kOverlayTurn;
	Session::Params params;
	params.client = settings.client;
	params.dmabufHeap = settings.dmabufHeap;
	params.format = settings.clientFormat;
	params.frameTimeoutMs = settings.frameTimeoutMs;
	params.frames = settings.warmup + settings.frames;
	/* The hidden turns, as long as the shown ones, and the frames after each switch. */
	if (inTurns)
		params.frames += settings.frames + (2 * turns - 1) * kOverlaySettle;
	auto session = Session::start(*compositor, workload, params);
	if (!session) {
		state.SkipWithError(session.error().context.c_str());
		return;
	}
	FrameTally tally;
	auto frames = [&](long n, const char *when) {
		for (long i = 0; i < n; i++) {
			if (!(*session)->nextFrame(&tally)) {
				std::string why = std::string("no frame callback ") + when + ": " +
						  (*session)->logTail();
				state.SkipWithError(why.c_str());
				return false;
			}
		}
		return true;
	};
	if (!frames(settings.warmup, "in warm-up"))
		return;
	tally = {};

	/* Frames measured from here on, and the overlay's redraws among them. */
	Tally shown, hidden;
	std::optional<Session::OverlayCost> overlayAt;
	auto begin = [&]() {
		overlayAt.reset();
		if (inTurns)
			if (auto cost = (*session)->overlayCost())
				overlayAt = *cost;
		return (*session)->compositorCpuSeconds();
	};
	auto end = [&](Tally &into, double from, long n) {
		into.cpu += (*session)->compositorCpuSeconds() - from;
		into.frames += n;
		if (auto cost = (*session)->overlayCost(); cost && overlayAt) {
			into.overlayNs += cost->cpuNs - overlayAt->cpuNs;
			into.overlayRedraws += cost->redraws - overlayAt->redraws;
		}
	};
	auto show = [&](bool shown) {
		if (auto ret = (*session)->showOverlay(shown); !ret) {
			state.SkipWithError(ret.error().message().c_str());
			return false;
		}
		return frames(kOverlaySettle, "after the overlay was switched");
	};
	/* n frames with the overlay hidden: false when the session failed. */
	auto hiddenTurn = [&](long n) {
		if (!show(false))
			return false;
		const double from = begin();
		if (!frames(n, "with the overlay hidden"))
			return false;
		end(hidden, from, n);
		return true;
	};

	double turnStart = begin(), last = turnStart;
	long inTurn = 0;
	const double firstCpu = last;
	const double firstKernel = (*session)->compositorKernelSeconds();
	const double start = monotonicSeconds();
	for (auto _ : state) {
		if (inTurns && inTurn == kOverlayTurn) {
			end(shown, turnStart, inTurn);
			if (!hiddenTurn(inTurn) || !show(true))
				break;
			turnStart = last = begin();
			inTurn = 0;
		}
		if (!(*session)->nextFrame(&tally)) {
			std::string why = "frame callbacks stopped: " + (*session)->logTail();
			state.SkipWithError(why.c_str());
			break;
		}
		double cpu = (*session)->compositorCpuSeconds();
		state.SetIterationTime(cpu - last);
		last = cpu;
		inTurn++;
	}
	if (inTurns && !state.error_occurred()) {
		end(shown, turnStart, inTurn);
		/* As many frames each way: the last turn is a hidden one. */
		if (hiddenTurn(inTurn) && shown.frames > 0 && hidden.frames > 0) {
			state.counters["shown_us"] = shown.cpu * 1e6 / double(shown.frames);
			state.counters["hidden_us"] = hidden.cpu * 1e6 / double(hidden.frames);
			state.counters["overlay_us"] = double(shown.overlayNs) / 1e3 /
						       double(shown.frames);
			state.counters["overlay_redraws"] = double(shown.overlayRedraws);
		}
		last = (*session)->compositorCpuSeconds();
	}
	const double wall = monotonicSeconds() - start;

	state.counters["fps"] = wall > 0 ? double(tally.frames) / wall : 0;
	state.counters["presented"] = double(tally.presented);
	state.counters["zero_copy"] = double(tally.zeroCopy);
	/* Share of one core: how much the frame rate itself costs. */
	state.counters["cpu_share"] = wall > 0 ? (last - firstCpu) / wall : 0;
	/* Of its CPU, the share in the kernel (clock ticks: coarse over few frames). */
	const double kernel = (*session)->compositorKernelSeconds() - firstKernel;
	state.counters["kernel_share"] = last > firstCpu ? std::min(1.0, kernel / (last - firstCpu)) : 0;
	state.counters["load1"] = loadAverage();
	std::string summary = (*session)->finish();
	std::fprintf(stderr, "%s %s: %s\n", compositor->name.c_str(), workload.name().c_str(),
		     summary.c_str());
}

/* The ratios, then one table: CPU/frame, baseline, ratio and zero-copy per workload. */
class CompositorReporter : public RatioReporter
{
public:
	struct Row {
		std::string workload;
		std::string compositor;
		std::string measured;	/* run names */
		std::string baseline;	/* paced at 60 Hz */
		std::string hotBaseline;	/* back to back */
		std::string floor;	/* the wakeup floor, measured beside it */
	};

	CompositorReporter(std::vector<Comparison> comparisons, std::vector<Row> rows)
		: RatioReporter(std::move(comparisons)), rows_(std::move(rows)) {}

	void ReportRuns(const std::vector<Run> &runs) override
	{
		RatioReporter::ReportRuns(runs);
		for (const Run &run : runs) {
			if (run.run_type != Run::RT_Iteration)
				continue;
			Figure &f = figures_[run.run_name.str()];
			if (run.error_occurred) {
				f.error = run.error_message;
				continue;
			}
			f.usPerIteration = run.GetAdjustedRealTime() *
					   benchmark::GetTimeUnitMultiplier(benchmark::kMicrosecond) /
					   benchmark::GetTimeUnitMultiplier(run.time_unit);
			for (const auto &[name, counter] : run.counters)
				f.counters[name] = counter.value;
		}
	}

	void Finalize() override
	{
		RatioReporter::Finalize();
		std::printf("\nCompositor CPU per frame presented (user+system, us), and its ratio to\n"
			    "one memcpy of the damaged bytes measured in the same run, once per\n"
			    "60 Hz refresh (memcpy@60) and back to back (hot). windowed: the\n"
			    "window on an output %d px larger each way. zero-copy: presentations\n"
			    "with the ZERO_COPY flag / all presentations (0/0: the compositor sent\n"
			    "no presentation feedback). floor: the ratio to the wakeup floor:\n",
			    Workload::kWindowMargin);
		std::printf("%-28s %-24s %10s %9s %7s %7s %7s %7s %6s %10s %6s\n", "workload",
			    "compositor", "cpu/frame", "memcpy@60", "ratio", "hot", "ratio", "floor",
			    "fps", "zero-copy", "load");
		std::string lastWorkload;
		for (const Row &row : rows_) {
			auto measured = figures_.find(row.measured);
			if (measured == figures_.end())
				continue;	/* filtered out */
			if (row.workload != lastWorkload && !lastWorkload.empty())
				std::printf("\n");
			lastWorkload = row.workload;
			const Figure &m = measured->second;
			const Figure &b = figures_[row.baseline];
			const Figure &hot = figures_[row.hotBaseline];
			const Figure &floor = figures_[row.floor];
			std::printf("%-28s %-24s ", row.workload.c_str(), row.compositor.c_str());
			if (!m.error.empty()) {
				std::printf("skipped: %s\n", m.error.c_str());
				continue;
			}
			auto counter = [&](const char *name) {
				auto it = m.counters.find(name);
				return it == m.counters.end() ? 0.0 : it->second;
			};
			std::printf("%10.1f ", m.usPerIteration);
			if (b.usPerIteration > 0)
				std::printf("%9.2f %6.1fx ", b.usPerIteration,
					    m.usPerIteration / b.usPerIteration);
			else
				std::printf("%9s %7s ", "n/a", "n/a");
			if (hot.usPerIteration > 0)
				std::printf("%7.2f %6.1fx ", hot.usPerIteration,
					    m.usPerIteration / hot.usPerIteration);
			else
				std::printf("%7s %7s ", "n/a", "n/a");
			if (floor.usPerIteration > 0)
				std::printf("%6.1fx ", m.usPerIteration / floor.usPerIteration);
			else
				std::printf("%7s ", "n/a");
			std::printf("%6.1f %4.0f/%-5.0f %6.2f\n", counter("fps"), counter("zero_copy"),
				    counter("presented"), counter("load1"));
		}
		printFloors();
		printOverlayCosts();
		std::fflush(stdout);
	}

private:
	struct Figure {
		double usPerIteration = -1;
		std::map<std::string, double> counters;
		std::string error;
	};

	/* Each workload's wakeup floor, once. */
	void printFloors()
	{
		std::string last;
		bool header = false;
		for (const Row &row : rows_) {
			auto f = figures_.find(row.floor);
			if (row.floor == last || f == figures_.end() || f->second.usPerIteration <= 0)
				continue;
			last = row.floor;
			if (!header) {
				std::printf("\nThe wakeup floor: CPU per frame of a process woken by a 60 Hz\n"
					    "timer and by its client's answer, doing nothing else:\n");
				header = true;
			}
			std::printf("  %-40s %8.1f us\n", row.floor.substr(0, row.floor.find("/iter")).c_str(),
				    f->second.usPerIteration);
		}
	}

	/*
	 * Frames with the overlay against frames without, in one session; and
	 * its redraws, timed inside heapcomp, against the frames they came with.
	 */
	void printOverlayCosts()
	{
		bool header = false;
		for (const Row &row : rows_) {
			auto f = figures_.find(row.measured);
			if (f == figures_.end() || !f->second.counters.count("overlay_us"))
				continue;
			if (!header) {
				std::printf("\nThe overlay's cost: CPU per frame (us) with it shown and hidden in\n"
					    "turns of %ld frames, and its redraws' CPU (ImGui and raster) per\n"
					    "frame, with their share of a frame's:\n",
					    kOverlayTurn);
				std::printf("%-28s %-28s %9s %9s %7s %10s %7s %8s\n", "workload",
					    "compositor", "shown", "hidden", "ratio", "overlay/fr",
					    "share", "redraws");
				header = true;
			}
			const std::map<std::string, double> &c = f->second.counters;
			const double shown = c.at("shown_us"), hidden = c.at("hidden_us");
			const double us = c.at("overlay_us");
			std::printf("%-28s %-28s %9.1f %9.1f %6.3fx %10.1f %6.1f%% %8.0f\n",
				    row.workload.c_str(), row.compositor.c_str(), shown, hidden,
				    hidden > 0 ? shown / hidden : 0.0, us,
				    shown > 0 ? 100.0 * us / shown : 0.0, c.at("overlay_redraws"));
		}
	}
	std::vector<Row> rows_;
	std::map<std::string, Figure> figures_;
};

/* Takes this program's own options out of argv, leaving the benchmark's. */
bool parseSettings(int *argc, char **argv)
{
	std::string self = argv[0];
	std::string dir = self.find('/') != std::string::npos ? self.substr(0, self.rfind('/'))
							       : ".";
	settings.heapcomp = dir + "/../compositor/heapcomp";
	settings.client = dir + "/../clients/bench_client";
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		std::string arg = argv[i];
		const bool hasValue = i + 1 < *argc;
		if (arg == "--heapcomp" && hasValue) {
			settings.heapcomp = argv[++i];
		} else if (arg == "--client" && hasValue) {
			settings.client = argv[++i];
		} else if (arg == "--dmabuf-heap" && hasValue) {
			settings.dmabufHeap = argv[++i];
		} else if (arg == "--client-format" && hasValue) {
			settings.clientFormat = argv[++i];
			if (settings.clientFormat != "xrgb" && settings.clientFormat != "argb") {
				std::fprintf(stderr, "compositor_bench: --client-format xrgb|argb\n");
				return false;
			}
		} else if (arg == "--compositors" && hasValue) {
			std::stringstream list(argv[++i]);
			std::string name;
			while (std::getline(list, name, ','))
				settings.compositors.push_back(name);
		} else if ((arg == "--frames" || arg == "--warmup") && hasValue) {
			long n = std::atol(argv[++i]);
			if (n <= 0 || n > 100000) {
				std::fprintf(stderr, "compositor_bench: %s needs 1-100000\n",
					     arg.c_str());
				return false;
			}
			(arg == "--frames" ? settings.frames : settings.warmup) = n;
		} else if (arg == "--frame-timeout" && hasValue) {
			long s = std::atol(argv[++i]);
			if (s <= 0 || s > 600) {
				std::fprintf(stderr, "compositor_bench: --frame-timeout needs 1-600 s\n");
				return false;
			}
			settings.frameTimeoutMs = int(s * 1000);
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	return true;
}

} /* namespace */

int main(int argc, char **argv)
{
	if (!parseSettings(&argc, argv))
		return 2;
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	if (access(settings.client.c_str(), X_OK) != 0) {
		std::fprintf(stderr, "compositor_bench: no bench_client at %s (--client PATH)\n",
			     settings.client.c_str());
		return 1;
	}

	Process::adoptOrphans();
	static std::vector<Compositor> compositors = knownCompositors(settings.heapcomp);
	std::vector<const Compositor *> chosen;
	for (const Compositor &c : compositors) {
		if (settings.compositors.empty() ||
		    std::find(settings.compositors.begin(), settings.compositors.end(), c.name) !=
			    settings.compositors.end())
			chosen.push_back(&c);
	}

	std::vector<Comparison> comparisons;
	std::vector<CompositorReporter::Row> rows;
	std::vector<Comparison> scanoutComparisons;
	const std::string suffix = "/iterations:" + std::to_string(settings.frames) +
				   "/manual_time";
	for (auto [width, height] : { std::pair(1280, 720), std::pair(1920, 1080) }) {
		for (bool column : { false, true }) {
			const std::string damage = std::string(column ? "column" : "full") + "/" +
						   std::to_string(width) + "x" +
						   std::to_string(height);
			const std::string hotBaseline = "memcpy/" + damage;
			const std::string baseline = "memcpy-paced/" + damage +
						     "/iterations:" + std::to_string(settings.frames) +
						     "/manual_time";
			Workload w{ false, column, width, height };
			benchmark::RegisterBenchmark(hotBaseline.c_str(), memcpyBaseline,
						     w.damagedBytes())
				->Unit(benchmark::kMicrosecond);
			benchmark::RegisterBenchmark(("memcpy-paced/" + damage).c_str(), memcpyPaced,
						     w)
				->Iterations(settings.frames)
				->UseManualTime()
				->Unit(benchmark::kMicrosecond);
			benchmark::RegisterBenchmark(("wakeup-floor/" + damage).c_str(),
						     [](benchmark::State &state) {
							     wakeupFloor(state, settings.frameTimeoutMs,
									 settings.warmup);
						     })
				->Iterations(settings.frames)
				->UseManualTime()
				->Unit(benchmark::kMicrosecond);
			const std::string floor = "wakeup-floor/" + damage + suffix;
			/* Compositors alternate per workload: a load change hits them all. */
			for (bool fullscreen : { true, false }) {
				w.fullscreen = fullscreen;
				for (const Compositor *c : chosen) {
					/* A window is composed anyway: nothing to compare. */
					if (!c->scanoutVariant.empty() && !fullscreen)
						continue;
					const std::string name = c->name + "/" + w.name();
					benchmark::RegisterBenchmark(name.c_str(), compositorFrames, c, w)
						->Iterations(settings.frames)
						->UseManualTime()
						->Unit(benchmark::kMicrosecond);
					/* heapcomp's pixman frames that compose all of a full damage. */
					const bool composesAll = c->renderer == "pixman" &&
								 c->name.rfind("heapcomp", 0) == 0 &&
								 !c->overlayInTurns && !column &&
								 (!fullscreen || !c->scanoutVariant.empty());
					comparisons.push_back({ name + suffix, baseline,
								c->name + " CPU/frame vs memcpy@60, " +
								w.name(),
								composesAll ? kComposeTarget : 0 });
					rows.push_back({ w.name(), c->name, name + suffix, baseline,
							 hotBaseline, floor });
					/* The overlay's cost: shown against hidden, in turns. */
					if (c->overlayInTurns)
						scanoutComparisons.push_back(
							{ name + suffix + "#shown_us",
							  name + suffix + "#hidden_us",
							  c->name + " shown vs hidden, " + w.name(),
							  kOverlayTarget });
					if (!c->scanoutVariant.empty()) {
						scanoutComparisons.push_back(
							{ c->scanoutVariant + "/" + w.name() + suffix,
							  name + suffix,
							  c->scanoutVariant + " scanout vs composition, " +
								  w.name(),
							  kScanoutTarget, false });
						/* The most scanout could save: down to the floor. */
						scanoutComparisons.push_back(
							{ name + suffix, floor,
							  "  (" + c->name + " vs the wakeup floor)", 0,
							  true, true });
					}
				}
			}
		}
	}

	/* Last, after the memcpy ratios. */
	comparisons.insert(comparisons.end(), scanoutComparisons.begin(),
			   scanoutComparisons.end());

	std::printf("compositor_bench: %ld cores, load average %.2f at start, client buffers %s %s\n",
		    sysconf(_SC_NPROCESSORS_ONLN), loadAverage(),
		    settings.dmabufHeap.empty() ? "wl_shm"
						: ("/dev/dma_heap/" + settings.dmabufHeap).c_str(),
		    settings.clientFormat == "argb" ? "ARGB8888, declared opaque" : "XRGB8888");
	CompositorReporter reporter(std::move(comparisons), std::move(rows));
	benchmark::RunSpecifiedBenchmarks(&reporter);
	benchmark::Shutdown();
	std::printf("load average %.2f at the end\n", loadAverage());
	return 0;
}
