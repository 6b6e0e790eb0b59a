#pragma once
// Which client methods vixy serves ([methods] allow / deny): a refused method is answered by vixy
// with "method not found" and never reaches a node.

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace vixy::routing {

class MethodPolicy {
 public:
  MethodPolicy() = default;  // serves every method
  explicit MethodPolicy(const config::Methods& methods);

  // Deny wins (and ignores case); a non-empty allow list refuses what it does not name exactly.
  bool allows(std::string_view method) const;
  // True when nothing is refused: callers skip looking at methods at all.
  bool allows_everything() const { return allow_.empty() && deny_.empty(); }

 private:
  struct Rule {
    std::string stem;
    bool prefix = false;  // the entry ended in '*'
  };
  static std::vector<Rule> rules(const std::vector<std::string>& entries);
  static bool matches(const std::vector<Rule>& rules, std::string_view method, bool ignore_case);

  std::vector<Rule> allow_;
  std::vector<Rule> deny_;
};

// The client's error message for a refused method: it names the method (cut to a sane length).
std::string refused_method_message(std::string_view method);

}  // namespace vixy::routing
