// Who a request comes from for [limits] (routing/client_address.hpp): the peer, unless the peer is
// a trusted proxy, and then the right-most X-Forwarded-For entry that is not one.
#include <gtest/gtest.h>

#include "routing/client_address.hpp"

namespace vixy::routing {
namespace {

using boost::asio::ip::make_address;

std::vector<config::Cidr> trusting(std::initializer_list<const char*> blocks) {
  std::vector<config::Cidr> out;
  for (const char* block : blocks) out.push_back(*config::parse_cidr(block));
  return out;
}

AddressBytes bytes(const char* address) { return address_bytes(make_address(address)); }

TEST(ClientAddress, AnUntrustedPeerIsTheClientWhateverItsHeaderSays) {
  EXPECT_EQ(client_address(make_address("203.0.113.9"), "198.51.100.1", trusting({"10.0.0.0/8"})), bytes("203.0.113.9"));
  EXPECT_EQ(client_address(make_address("10.1.1.1"), "198.51.100.1", {}), bytes("10.1.1.1"));
}

TEST(ClientAddress, BehindTrustedProxiesTheRightMostUntrustedEntryIsTheClient) {
  auto trusted = trusting({"10.0.0.0/8", "2001:db8::/32"});
  // The client wrote a fake left-most entry; the load balancer appended what it saw.
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "1.2.3.4, 198.51.100.7", trusted), bytes("198.51.100.7"));
  // Two proxies deep, IPv6 between.
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "198.51.100.7,2001:db8::5 , 10.9.9.9", trusted),
            bytes("198.51.100.7"));
  // Every entry a proxy: the left-most is the best there is.
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "10.0.0.3", trusted), bytes("10.0.0.3"));
  // No header: the proxy itself.
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "", trusted), bytes("10.0.0.2"));
}

TEST(ClientAddress, AnEntryThatIsNotAnAddressEndsTheWalk) {
  auto trusted = trusting({"10.0.0.0/8"});
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "198.51.100.7, unknown", trusted), bytes("10.0.0.2"));
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "198.51.100.7, 10.0.0.4, garbage", trusted), bytes("10.0.0.2"));
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "unknown, 10.0.0.4", trusted), bytes("10.0.0.4"));
  EXPECT_EQ(client_address(make_address("10.0.0.2"), ",,,", trusted), bytes("10.0.0.2"));
}

TEST(ClientAddress, EntriesWithAPortNameTheirAddress) {
  auto trusted = trusting({"10.0.0.0/8"});
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "198.51.100.7:5678", trusted), bytes("198.51.100.7"));
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "[2001:db8::9]:443", trusted), bytes("2001:db8::9"));
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "[2001:db8::9]", trusted), bytes("2001:db8::9"));
  EXPECT_EQ(client_address(make_address("10.0.0.2"), "2001:db8::9", trusted), bytes("2001:db8::9"));
}

TEST(ClientAddress, ARequestsForwardedForFieldsAreReadInOrder) {
  boost::beast::http::fields fields;
  fields.insert("X-Forwarded-For", "198.51.100.7");
  fields.insert("x-forwarded-for", "10.0.0.9");
  EXPECT_EQ(client_address(make_address("10.0.0.2"), fields, trusting({"10.0.0.0/8"})), bytes("198.51.100.7"));
}

TEST(ClientAddress, IPv6ClientsAreCountedByTheirSlash64AndIPv4ByAddress) {
  EXPECT_EQ(rate_key(bytes("2001:db8:1:2::1")), rate_key(bytes("2001:db8:1:2:ffff::9")));
  EXPECT_NE(rate_key(bytes("2001:db8:1:2::1")), rate_key(bytes("2001:db8:1:3::1")));
  EXPECT_NE(rate_key(bytes("192.0.2.1")), rate_key(bytes("192.0.2.2")));
  EXPECT_EQ(rate_key(bytes("192.0.2.1")), rate_key(bytes("::ffff:192.0.2.1")));
  EXPECT_NE(rate_key(bytes("192.0.2.1")), rate_key(bytes("::")));
}

}  // namespace
}  // namespace vixy::routing
