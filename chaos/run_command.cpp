// `vixy-chaos run`: the command line, scenarios side by side (--jobs), the reports and pages.
#include "chaos/runner.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <thread>

#include "chaos/run_page.hpp"
#include "chaos/runner_faults.hpp"

namespace vixy::chaos {

using nlohmann::json;

namespace {

// One page per run: `path` itself, or path/NAME.html when there are several.
void write_page(const Scenario& s, const std::string& path, bool several, RunReport& r) {
  std::filesystem::path file = path;
  std::error_code ec;
  if (several) {
    std::filesystem::create_directories(file, ec);
    file /= s.name + ".html";
  }
  std::ofstream out(file);
  out << render_run_page(s, r);
  out.close();
  if (!out) {
    std::fprintf(stderr, "vixy-chaos run: cannot write %s\n", file.c_str());
    return;
  }
  r.page_path = file.string();
}

}  // namespace

int run_command(const std::vector<std::string>& args, const Binaries& defaults) {
  RunOptions options;
  options.binaries = defaults;
  std::string report_path;
  std::string html_path;
  std::vector<std::string> files;
  std::size_t jobs = 1;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: vixy-chaos run FILE... [--proxy-bin PATH] [--report out.json] [--fakenode PATH] [--seed N]\n"
                  "                      [--histories out.jsonl] [--jobs N] [--html OUT]\n"
                  "--html: each run as an HTML page: OUT itself for one FILE, OUT/NAME.html for several\n"
                  "(format: scenarios/README.md)\n");
      return 0;
    }
    if ((a == "--proxy-bin" || a == "--report" || a == "--fakenode" || a == "--seed" || a == "--histories" ||
         a == "--jobs" || a == "--html") &&
        i + 1 < args.size()) {
      const auto& v = args[++i];
      if (a == "--jobs") {
        char* rest = nullptr;
        unsigned long n = std::strtoul(v.c_str(), &rest, 10);
        if (v.empty() || *rest != '\0' || n == 0 || n > 16) {
          std::fprintf(stderr, "vixy-chaos run: --jobs wants a number from 1 to 16, not \"%s\"\n", v.c_str());
          return 2;
        }
        jobs = n;
      } else if (a == "--proxy-bin") options.binaries.vixy = v;
      else if (a == "--histories") options.histories_path = v;
      else if (a == "--fakenode") options.binaries.fakenode = v;
      else if (a == "--report") report_path = v;
      else if (a == "--html") html_path = v;
      else options.seed = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "vixy-chaos run: unknown or incomplete option \"%s\"\n", a.c_str());
      return 2;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "vixy-chaos run: give at least one scenario file\n");
    return 2;
  }
  std::vector<Scenario> scenarios;
  try {
    for (const auto& f : files) scenarios.push_back(load_scenario(f));
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
      try {
        check_supported(scenarios[i], scenarios[i].topology.injectors);
      } catch (const ScenarioError& e) {
        throw ScenarioError(files[i] + ": " + e.what());
      }
    }
  } catch (const ScenarioError& e) {
    std::fprintf(stderr, "vixy-chaos run: %s\n", e.what());
    return 2;
  }
  std::vector<RunReport> reports(scenarios.size());
  // Side by side, longest first, so that the last one to start is a short one. Each scenario has
  // its own cluster on its own ports and its own temporary folder; only the output is shared.
  std::vector<std::size_t> order(scenarios.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (jobs > 1) {
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      return scenarios[x].workload.duration_ms > scenarios[y].workload.duration_ms;
    });
  }
  std::atomic<std::size_t> next{0};
  std::mutex print_mutex;
  auto worker = [&] {
    for (std::size_t k = next++; k < order.size(); k = next++) {
      std::size_t i = order[k];
      RunReport r = run_scenario(scenarios[i], files[i], options);
      if (!html_path.empty()) write_page(scenarios[i], html_path, files.size() > 1, r);
      std::lock_guard lock(print_mutex);
      print_report(r, stdout);
      std::fflush(stdout);
      reports[i] = std::move(r);
    }
  };
  {
    // Children die with the thread that started them (PR_SET_PDEATHSIG), and each worker outlives
    // the clusters it starts.
    std::vector<std::jthread> workers;
    for (std::size_t j = 1; j < std::min(jobs, scenarios.size()); ++j) workers.emplace_back(worker);
    worker();
  }
  json all = json::array();
  int code = 0;
  for (const auto& r : reports) {
    all.push_back(report_to_json(r));
    if (!r.ok()) code = 1;
  }
  if (reports.size() > 1) {
    std::printf("\n%zu scenario(s):", reports.size());
    for (const auto& r : reports) std::printf(" %s=%s", r.scenario.c_str(), r.ok() ? "ok" : "FAILED");
    std::printf("\n");
  }
  if (!report_path.empty()) {
    std::ofstream out(report_path);
    out << (all.size() == 1 ? all[0] : json{{"ok", code == 0}, {"scenarios", all}}).dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "vixy-chaos run: cannot write %s\n", report_path.c_str());
      return 2;
    }
  }
  return code;
}

}  // namespace vixy::chaos
