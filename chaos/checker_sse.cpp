#include "chaos/checker_sse.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace vixy::chaos {
namespace {

using nlohmann::json;
constexpr std::size_t kKept = 10;

double ms(SteadyTime from, SteadyTime to) { return std::chrono::duration<double, std::milli>(to - from).count(); }

bool is_root(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s.size() == 66 && s.rfind("0x", 0) == 0 &&
         std::all_of(s.begin() + 2, s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::optional<std::uint64_t> decimal(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(s);
}

class SseCheck {
 public:
  SseCheck(SteadyTime start, const SseCheckSpec& spec, SseStats& stats) : start_(start), spec_(spec), stats_(stats) {
    result_.name = "SSE";
  }

  void add(const std::string& where, SteadyTime at, std::string message) {
    ++result_.violation_count;
    if (result_.first.size() < kKept) result_.first.push_back({where, ms(start_, at), std::move(message)});
  }

  void stream(const SseStreamHistory& h) {
    bool ok = h.status == 200 && h.content_type.rfind("text/event-stream", 0) == 0;
    if (h.status == 200 && !ok) add(h.label(), h.opened, "a 200 answer of type \"" + h.content_type + "\", not an event stream");
    if (!ok) {
      ++stats_.failed_opens;
      return;
    }
    ++stats_.streams;
    if (h.stream > 0) ++stats_.reconnections;
    if (h.ended_by_peer) ++stats_.ended_by_proxy;
    std::optional<std::uint64_t> last_slot;
    for (const auto& e : h.events) {
      ++stats_.events;
      if (std::find(spec_.topics.begin(), spec_.topics.end(), e.event) == spec_.topics.end()) {
        add(h.label(), e.at, "an event of topic \"" + e.event + "\", which the listener did not ask for: " + short_text(e.data));
        continue;
      }
      json data = json::parse(e.data, nullptr, false);
      if (!data.is_object()) {
        add(h.label(), e.at, "a " + e.event + " event whose data is not a JSON object: " + short_text(e.data));
        continue;
      }
      if (e.event != "head") continue;
      auto slot = decimal(data.value("slot", json()));
      if (!slot || !is_root(data.value("block", json())) || !is_root(data.value("state", json()))) {
        add(h.label(), e.at, "a malformed head event: " + short_text(e.data));
        continue;
      }
      ++stats_.head_events;
      heads_[h.listener].push_back(e.at);
      if (last_slot && *slot <= *last_slot) {
        add(h.label(), e.at, "head slot " + std::to_string(*slot) + " after slot " + std::to_string(*last_slot) + " on the same stream");
      }
      last_slot = slot;
      const std::string& block = data["block"].get_ref<const std::string&>();
      auto [root, fresh] = roots_.emplace(*slot, block);
      if (!fresh && root->second != block) {
        add(h.label(), e.at, "head slot " + std::to_string(*slot) + " with block " + block + ", another stream had " + root->second);
      }
    }
  }

  // The time between a listener's first request and its first head event, between head events, and
  // from its last one to the end: judged against the bound outside the outages.
  void gaps(int listener, SteadyTime began) {
    auto& times = heads_[listener];
    std::sort(times.begin(), times.end());
    std::vector<SteadyTime> points{began};
    points.insert(points.end(), times.begin(), times.end());
    points.push_back(std::max(spec_.stopped, points.back()));
    for (std::size_t i = 0; i + 1 < points.size(); ++i) {
      SteadyTime from = points[i];
      SteadyTime to = points[i + 1];
      for (const auto& [down, up] : spec_.outages) {
        if (down < to && up > from) from = std::max(from, up);  // nothing is owed until a node is back
      }
      if (from >= to) continue;
      double gap = ms(from, to);
      std::string where = "listener " + std::to_string(listener);
      if (gap > stats_.longest_gap_ms) {
        stats_.longest_gap_ms = gap;
        stats_.longest_gap_where = where + ", " + std::to_string(std::lround(ms(start_, from))) + "-" +
                                   std::to_string(std::lround(ms(start_, to))) + " ms";
      }
      if (spec_.max_gap && gap > static_cast<double>(spec_.max_gap->count())) {
        add(where, from,
            "no head event for " + std::to_string(std::lround(gap)) + " ms (until " +
                std::to_string(std::lround(ms(start_, to))) + " ms; bound " + std::to_string(spec_.max_gap->count()) + " ms)");
      }
    }
  }

  InvariantResult finish() {
    std::stable_sort(result_.first.begin(), result_.first.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
    result_.status = result_.violation_count > 0 ? "violated" : "held";
    result_.note = std::to_string(stats_.head_events) + " head events on " + std::to_string(stats_.streams) +
                   " streams; longest gap " + std::to_string(std::lround(stats_.longest_gap_ms)) + " ms" +
                   (spec_.max_gap ? " (bound " + std::to_string(spec_.max_gap->count()) + " ms)" : " (no bound set)");
    return result_;
  }

 private:
  SteadyTime start_;
  const SseCheckSpec& spec_;
  SseStats& stats_;
  InvariantResult result_;
  std::map<int, std::vector<SteadyTime>> heads_;  // per listener, across its streams
  std::map<std::uint64_t, std::string> roots_;    // slot -> the first block root seen for it
};

}  // namespace

InvariantResult check_sse(const std::vector<SseStreamHistory>& streams, SteadyTime start, const SseCheckSpec& spec,
                          SseStats& stats) {
  SseCheck check(start, spec, stats);
  std::map<int, SteadyTime> began;
  for (const auto& h : streams) {
    auto [it, fresh] = began.emplace(h.listener, h.opened);
    if (!fresh) it->second = std::min(it->second, h.opened);
    check.stream(h);
  }
  stats.listeners = began.size();
  for (const auto& [listener, at] : began) check.gaps(listener, at);
  return check.finish();
}

}  // namespace vixy::chaos
