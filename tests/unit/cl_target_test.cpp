#include "http/cl_target.hpp"

#include <gtest/gtest.h>

namespace vixy::http {
namespace {

net::UpstreamUrl url(std::string_view text) {
  auto parsed = net::parse_upstream_url(text);
  EXPECT_TRUE(parsed) << text << ": " << parsed.problem();
  return parsed ? *parsed : net::UpstreamUrl{};
}

std::string target(std::string_view node_url, std::string_view suffix) {
  auto t = cl_upstream_target(url(node_url), suffix);
  EXPECT_TRUE(t) << suffix << ": " << t.problem();
  return t ? *t : "";
}

TEST(ClTarget, JoinsTheNodePathAndTheClientPath) {
  EXPECT_EQ(target("http://h:5052", "/eth/v1/node/version"), "/eth/v1/node/version");
  EXPECT_EQ(target("https://beacon.example/KEY/", "/eth/v1/node/version"), "/KEY/eth/v1/node/version");
  EXPECT_EQ(target("https://beacon.example/KEY", ""), "/KEY");
  EXPECT_EQ(target("http://h:5052", ""), "/");
  EXPECT_EQ(target("http://h:5052", "/eth/v1/x/"), "/eth/v1/x/");  // one trailing slash is kept
  EXPECT_EQ(target("http://h:5052/KEY", "/"), "/KEY/");
  // Escapes that are no trick are passed on as written.
  EXPECT_EQ(target("http://h/KEY", "/eth/v1/beacon/states/0x%41b/x"), "/KEY/eth/v1/beacon/states/0x%41b/x");
  EXPECT_EQ(target("http://h/KEY", "/a.b/..c/c..d/.well-known"), "/KEY/a.b/..c/c..d/.well-known");
}

TEST(ClTarget, RefusesEveryWayOutOfTheNodePath) {
  const char* attacks[] = {
      "/../el",        "/..",          "/.",           "/./x",        "/x/..",        "/x/../../y",
      "/%2e%2e/el",    "/%2E%2E/el",   "/%2e%2E/el",   "/.%2e/el",    "/%2e./el",     "/%2E./el",
      "/%2e/x",        "/..;/el",      "/..;jsessionid=1/el",         "/.;x/el",      "/%2e%2e%3b/el",
      "/.../el",       "/.. /el",      "/..%20/el",    "//x",         "/x//y",        "//",
      "/x\\..\\el",    "/x%5c..%5cel", "/x%5C..",      "/x%2f..%2fel",  "/x%2F..%2Fel", "/a%00b",
      "/a%0ab",        "/a%0D%0Ab",    "/a%7f",        "/a\tb",
      "/a%zz",         "/a%2",         "/a%",          "/x#/../y",    "/x?y#z",       "x/y",
  };
  for (std::string_view attack : attacks) {
    auto refused = cl_upstream_target(url("https://beacon.example/KEY/"), attack);
    EXPECT_FALSE(refused) << attack;
    EXPECT_TRUE(refused.problem().starts_with("bad path: ")) << attack << ": " << refused.problem();
    EXPECT_TRUE(cl_path_problem(attack).has_value()) << attack;
  }
  // A raw NUL inside the string, not just at its end.
  EXPECT_TRUE(cl_path_problem(std::string_view("/a\0b", 4)).has_value());
}

TEST(ClTarget, ProblemsNameWhatIsWrong) {
  EXPECT_EQ(cl_path_problem("/../x"), "bad path: dot segment (\".\" or \"..\")");
  EXPECT_EQ(cl_path_problem("//x"), "bad path: empty segment (\"//\")");
  EXPECT_EQ(cl_path_problem("/a%5cb"), "bad path: backslash");
  EXPECT_EQ(cl_path_problem("/a%2fb"), "bad path: encoded slash (%2F)");
  EXPECT_EQ(cl_path_problem("/a%00"), "bad path: control byte");
  EXPECT_EQ(cl_path_problem("/a%g0"), "bad path: malformed percent-escape");
  EXPECT_EQ(cl_path_problem("/eth/v1/events?topics=head"), std::nullopt);
  // The query is the node's business: anything goes there (but '#').
  EXPECT_EQ(cl_path_problem("/x?a=../..&b=%00&c=//"), std::nullopt);
}

TEST(ClTarget, TheNodeUrlsParametersComeFirstAndWin) {
  const char* node = "https://beacon.example/KEY?apikey=secret&net=main";
  EXPECT_EQ(target(node, "/eth/v1/x"), "/KEY/eth/v1/x?apikey=secret&net=main");
  EXPECT_EQ(target(node, "/eth/v1/x?topics=head"), "/KEY/eth/v1/x?apikey=secret&net=main&topics=head");
  EXPECT_EQ(target(node, "/x?apikey=evil&topics=head"), "/KEY/x?apikey=secret&net=main&topics=head");
  // However the client spells the name.
  EXPECT_EQ(target(node, "/x?APIKEY=evil"), "/KEY/x?apikey=secret&net=main");
  EXPECT_EQ(target(node, "/x?api%6Bey=evil"), "/KEY/x?apikey=secret&net=main");
  EXPECT_EQ(target(node, "/x?apikey"), "/KEY/x?apikey=secret&net=main");
  EXPECT_EQ(target(node, "/x?net=test&a=1&&b=2"), "/KEY/x?apikey=secret&net=main&a=1&b=2");
  EXPECT_EQ(target(node, "/x?"), "/KEY/x?apikey=secret&net=main");
  // No configured query: the client's goes as written (empty parameters dropped).
  EXPECT_EQ(target("http://h:5052", "/x?a=1&a=2"), "/x?a=1&a=2");
  EXPECT_EQ(target("http://h:5052", "/x?"), "/x");
  EXPECT_EQ(target("http://h:5052", "?a=1"), "/?a=1");
}

}  // namespace
}  // namespace vixy::http
