#include "routing/method_policy.hpp"

#include <algorithm>

namespace vixy::routing {

MethodPolicy::MethodPolicy(const config::Methods& methods) : allow_(rules(methods.allow)), deny_(rules(methods.deny)) {
  // allow = ["*"] is the same as no allow list: nothing to check per request.
  if (std::any_of(allow_.begin(), allow_.end(), [](const Rule& rule) { return rule.prefix && rule.stem.empty(); })) {
    allow_.clear();
  }
}

std::vector<MethodPolicy::Rule> MethodPolicy::rules(const std::vector<std::string>& entries) {
  std::vector<Rule> out;
  for (const auto& entry : entries) {
    bool prefix = entry.ends_with('*');
    out.push_back({prefix ? entry.substr(0, entry.size() - 1) : entry, prefix});
  }
  return out;
}

namespace {

bool same_ignoring_case(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

bool MethodPolicy::matches(const std::vector<Rule>& rules, std::string_view method, bool ignore_case) {
  return std::any_of(rules.begin(), rules.end(), [&](const Rule& rule) {
    std::string_view part = rule.prefix ? method.substr(0, rule.stem.size()) : method;
    return ignore_case ? same_ignoring_case(part, rule.stem) : part == rule.stem;
  });
}

// Deny ignores case and allow does not: geth and Erigon match method names exactly, but a node that
// did not would otherwise serve "DEBUG_traceCall" past deny = ["debug_*"]. Either way, a name in a
// case the operator did not write is refused.
bool MethodPolicy::allows(std::string_view method) const {
  if (matches(deny_, method, true)) return false;
  return allow_.empty() || matches(allow_, method, false);
}

std::string refused_method_message(std::string_view method) {
  constexpr std::size_t kShown = 128;  // a client's method name can be any length
  std::string shown(method.substr(0, kShown));
  // Printable ASCII only: a name with invalid UTF-8 could not be written into the JSON answer.
  for (char& c : shown) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (method.size() > kShown) shown += "...";
  return "the method " + shown + " does not exist/is not available on this proxy";
}

}  // namespace vixy::routing
