#pragma once
// Strict reading of scenario JSON, shared by the parts of the scenario parser: an object whose
// keys are checked against the known ones, with typed getters that name the key's path on error.
// Internal to chaos/scenario*.cpp.

#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/scenario.hpp"

namespace vixy::chaos::scenario_detail {

using nlohmann::json;

[[noreturn]] inline void fail(const std::string& path, const std::string& why) { throw ScenarioError(path + ": " + why); }

inline std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

inline std::string plain(double d) {
  std::ostringstream out;
  out << std::setprecision(15) << d;  // 3600000, not 3.6e+06
  return out.str();
}

inline std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// An object whose keys are checked against the known ones; typed getters name the key on error.
class Obj {
 public:
  Obj(const json& j, std::string path, const std::set<std::string>& known) : j_(j), path_(std::move(path)) {
    if (!j.is_object()) fail(path_.empty() ? "(document)" : path_, "expected an object");
    for (const auto& [key, value] : j.items()) {
      if (!known.count(key)) {
        fail(child(path_, key), "unknown key (known: " + join({known.begin(), known.end()}) + ")");
      }
    }
  }
  bool has(const std::string& key) const { return j_.contains(key); }
  const json& at(const std::string& key) const { return j_.at(key); }
  std::string path(const std::string& key) const { return child(path_, key); }

  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number_integer()) fail(path(key), "expected an integer, got " + v.dump());
    auto n = v.get<std::int64_t>();
    if (n < min || n > max) {
      fail(path(key), "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + v.dump());
    }
    return n;
  }
  double number(const std::string& key, double fallback, double min, double max) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number()) fail(path(key), "expected a number, got " + v.dump());
    double d = v.get<double>();
    if (d < min || d > max) fail(path(key), "must be between " + plain(min) + " and " + plain(max) + ", got " + v.dump());
    return d;
  }
  std::string string(const std::string& key, std::string fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_string()) fail(path(key), "expected a string, got " + j_.at(key).dump());
    return j_.at(key).get<std::string>();
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_boolean()) fail(path(key), "expected true or false, got " + j_.at(key).dump());
    return j_.at(key).get<bool>();
  }
  std::vector<std::string> strings(const std::string& key, std::vector<std::string> fallback,
                                   const std::vector<std::string>* allowed = nullptr) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_array()) fail(path(key), "expected a list of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string p = path(key) + "[" + std::to_string(i) + "]";
      if (!v[i].is_string() || v[i].get<std::string>().empty()) fail(p, "expected a non-empty string");
      std::string s = v[i].get<std::string>();
      if (allowed && std::find(allowed->begin(), allowed->end(), s) == allowed->end()) {
        fail(p, "unknown value \"" + s + "\" (known: " + join(*allowed) + ")");
      }
      out.push_back(s);
    }
    return out;
  }

 private:
  const json& j_;
  std::string path_;
};

// The workload's "hostile" object (chaos/scenario_hostile.cpp), and its JSON form.
HostileWorkload parse_hostile(const json& j, const std::string& path);
json hostile_to_json(const HostileWorkload& h);

}  // namespace vixy::chaos::scenario_detail
