#include "net/upstream_url.hpp"

#include <gtest/gtest.h>

#include "net/listen_address.hpp"

namespace vixy::net {
namespace {

TEST(UpstreamUrl, SplitsWhatAConnectionNeeds) {
  auto u = parse_upstream_url("https://alice:pw@rpc.example.com/v3/KEY?x=1");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "rpc.example.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->host_header(), "rpc.example.com");
  EXPECT_EQ(u->target(), "/v3/KEY?x=1");
  EXPECT_EQ(u->basic_auth, "Basic YWxpY2U6cHc=");  // base64("alice:pw")
  EXPECT_EQ(u->redacted.find("pw"), std::string::npos);
}

TEST(UpstreamUrl, JoinsPathsAndQueries) {
  auto u = parse_upstream_url("http://127.0.0.1:5052/beacon/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host_header(), "127.0.0.1:5052");
  EXPECT_EQ(u->target(), "/beacon");
  EXPECT_EQ(u->target("/eth/v1/node/health"), "/beacon/eth/v1/node/health");
  EXPECT_EQ(u->target("eth/v1/events"), "/beacon/eth/v1/events");
  auto root = parse_upstream_url("ws://localhost:8546");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->target(), "/");
  EXPECT_EQ(root->target("/x"), "/x");
  auto keyed = parse_upstream_url("http://h/?key=1");
  ASSERT_TRUE(keyed);
  EXPECT_EQ(keyed->target("/eth/v1/x"), "/eth/v1/x?key=1");
}

TEST(UpstreamUrl, RejectsWhatCannotBeUsed) {
  auto ftp = parse_upstream_url("ftp://host/");
  EXPECT_FALSE(ftp);
  EXPECT_EQ(ftp.problem(), "scheme must be http, https, ws or wss, got \"ftp\"");
  EXPECT_EQ(parse_upstream_url("http:///path").problem(), "URL has no host");
  EXPECT_EQ(parse_upstream_url("not a url").problem(), "not an absolute URL");
  EXPECT_EQ(parse_upstream_url("http://host:0/").problem(), "port must be 1-65535");
  EXPECT_EQ(parse_upstream_url("http://host/").problem(), "");
}

TEST(ListenAddress, AcceptsIpv4Ipv6AndLocalhost) {
  auto v4 = parse_listen_address("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(to_string(*v4), "127.0.0.1:8080");
  auto v6 = parse_listen_address("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(to_string(*v6), "[::1]:0");
  auto local = parse_listen_address("localhost:9");
  ASSERT_TRUE(local);
  EXPECT_EQ(to_string(*local), "127.0.0.1:9");
  auto no_port = parse_listen_address("8080");
  EXPECT_FALSE(no_port);
  EXPECT_EQ(no_port.problem(), "expected HOST:PORT");
  EXPECT_EQ(parse_listen_address("127.0.0.1:65536").problem(), "port must be a number from 0 to 65535");
  EXPECT_EQ(parse_listen_address("example.com:80").problem(), "host must be an IP address or localhost");
  EXPECT_EQ(parse_listen_address("127.0.0.1:").problem(), "port must be a number from 0 to 65535");
}

}  // namespace
}  // namespace vixy::net
