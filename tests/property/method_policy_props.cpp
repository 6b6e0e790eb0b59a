// Properties of [methods] allow / deny (routing/method_policy.hpp) over random lists of names and
// prefixes drawn from a small alphabet, so that names share prefixes and collide often.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "routing/method_policy.hpp"

namespace vixy::routing {
namespace {

std::string gen_name() {
  return *rc::gen::container<std::string>(*rc::gen::inRange<std::size_t>(1, 5), rc::gen::element('a', 'b', 'A', '_'));
}

// Entries as the config holds them: names, and prefixes ending in '*' (sometimes "*" alone).
std::vector<std::string> gen_entries() {
  return *rc::gen::container<std::vector<std::string>>(
      *rc::gen::inRange<std::size_t>(0, 4), rc::gen::map(rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::inRange(0, 5)),
                                                          [](std::pair<bool, int> shape) {
                                                            std::string stem(static_cast<std::size_t>(shape.second), shape.second == 2 ? 'A' : 'a');
                                                            if (shape.second % 2 == 1) stem.back() = '_';
                                                            return shape.first ? stem + "*" : (stem.empty() ? "a" : stem);
                                                          }));
}

std::string lowered(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Whether one entry names `method`, read straight off the entry's text.
bool names(const std::string& entry, const std::string& method) {
  if (!entry.empty() && entry.back() == '*') return method.rfind(entry.substr(0, entry.size() - 1), 0) == 0;
  return entry == method;
}

// Deny entries name a method in any case.
bool any_names(const std::vector<std::string>& entries, const std::string& method, bool ignore_case = false) {
  for (const auto& entry : entries) {
    if (ignore_case ? names(lowered(entry), lowered(method)) : names(entry, method)) return true;
  }
  return false;
}

RC_GTEST_PROP(MethodPolicy, ADeniedMethodIsRefusedWhateverTheAllowListSays, ()) {
  config::Methods methods{gen_entries(), gen_entries()};
  methods.deny.push_back(gen_name());
  methods.allow.push_back(methods.deny.back());
  RC_ASSERT(!MethodPolicy(methods).allows(methods.deny.back()));
}

// The rule, read straight off the entries' text: no deny entry names it in any case, and the
// allow list is empty or names it exactly.
RC_GTEST_PROP(MethodPolicy, AMethodIsServedExactlyWhenNoDenyEntryAndSomeAllowEntryNamesIt, ()) {
  config::Methods methods{gen_entries(), gen_entries()};
  // Half the time a name close to an entry (its stem in another case, maybe extended): where the
  // rules' edges are.
  std::vector<std::string> entries = methods.allow;
  entries.insert(entries.end(), methods.deny.begin(), methods.deny.end());
  std::string method = gen_name();
  if (!entries.empty() && *rc::gen::arbitrary<bool>()) {
    method = *rc::gen::elementOf(entries);
    if (method.back() == '*') method.pop_back();
    for (char& c : method) {
      if (*rc::gen::arbitrary<bool>()) c = static_cast<char>(std::isupper(static_cast<unsigned char>(c)) ? std::tolower(c) : std::toupper(c));
    }
    if (*rc::gen::arbitrary<bool>() || method.empty()) method += gen_name();
  }
  MethodPolicy policy(methods);
  bool expected = !any_names(methods.deny, method, true) && (methods.allow.empty() || any_names(methods.allow, method));
  RC_ASSERT(policy.allows(method) == expected);
}

RC_GTEST_PROP(MethodPolicy, EmptyListsServeEverythingAndSaySo, ()) {
  MethodPolicy policy(config::Methods{});
  RC_ASSERT(policy.allows_everything());
  RC_ASSERT(policy.allows(gen_name()));
  MethodPolicy star(config::Methods{{"*"}, {}});
  RC_ASSERT(star.allows_everything());
}

TEST(MethodPolicy, ExamplesFromTheReadme) {
  MethodPolicy policy(config::Methods{{"eth_*", "net_version"}, {"eth_sendRawTransaction", "eth_sign*"}});
  EXPECT_TRUE(policy.allows("eth_call"));
  EXPECT_TRUE(policy.allows("net_version"));
  EXPECT_FALSE(policy.allows("net_listening"));
  EXPECT_FALSE(policy.allows("debug_traceTransaction"));
  EXPECT_FALSE(policy.allows("eth_sendRawTransaction"));
  EXPECT_FALSE(policy.allows("eth_signTypedData_v4"));
  EXPECT_TRUE(policy.allows("eth_sendTransaction"));
  EXPECT_FALSE(policy.allows("ETH_SENDRAWTRANSACTION")) << "deny ignores case";
  EXPECT_FALSE(policy.allows("Eth_call")) << "allow names methods exactly";
  MethodPolicy deny_only(config::Methods{{}, {"debug_*"}});
  EXPECT_FALSE(deny_only.allows("DEBUG_traceCall")) << "deny ignores case";
  EXPECT_TRUE(deny_only.allows("eth_call"));
  EXPECT_FALSE(policy.allows_everything());
}

TEST(MethodPolicy, TheMessageNamesTheMethodInPrintableAscii) {
  EXPECT_EQ(refused_method_message("debug_traceCall"),
            "the method debug_traceCall does not exist/is not available on this proxy");
  EXPECT_EQ(refused_method_message("a\xff\n"), "the method a?? does not exist/is not available on this proxy");
  std::string long_name(1000, 'x');
  EXPECT_EQ(refused_method_message(long_name).find(std::string(129, 'x')), std::string::npos);
}

}  // namespace
}  // namespace vixy::routing
