#include "routing/client_address.hpp"

#include <algorithm>
#include <string>

namespace vixy::routing {

namespace {

bool trusted(const AddressBytes& address, const std::vector<config::Cidr>& proxies) {
  return std::any_of(proxies.begin(), proxies.end(), [&](const config::Cidr& cidr) { return cidr.contains(address); });
}

std::string_view trimmed(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// The address of an entry some load balancers write with the client's port: "1.2.3.4:5678",
// "[2001:db8::1]:443" or "[2001:db8::1]". A bare IPv6 address (several colons) is left as it is.
std::string_view without_port(std::string_view entry) {
  if (entry.starts_with('[')) {
    auto close = entry.find(']');
    return close == std::string_view::npos ? entry : entry.substr(1, close - 1);
  }
  auto colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) return entry.substr(0, colon);
  return entry;
}

}  // namespace

AddressBytes address_bytes(const boost::asio::ip::address& address) {
  if (address.is_v6()) return address.to_v6().to_bytes();
  return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4()).to_bytes();
}

AddressBytes client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                            const std::vector<config::Cidr>& trusted_proxies) {
  AddressBytes client = address_bytes(peer);
  if (forwarded_for.empty() || !trusted(client, trusted_proxies)) return client;
  // Right to left: the first entry not a trusted proxy is the client; an entry that is not an
  // address ends the walk (what is left of it cannot be trusted either).
  constexpr std::size_t kMaxEntries = 32;  // bounds the work a long header can cause
  std::size_t end = forwarded_for.size();
  for (std::size_t entries = 0; entries < kMaxEntries; ++entries) {
    auto comma = end == 0 ? std::string_view::npos : forwarded_for.rfind(',', end - 1);
    std::size_t begin = comma == std::string_view::npos ? 0 : comma + 1;
    std::string_view entry = trimmed(forwarded_for.substr(begin, end - begin));
    if (entry.size() > 64) return client;  // longer than any textual IPv6 address with a port
    entry = without_port(entry);
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(entry), ec);
    if (ec) return client;
    client = address_bytes(address);
    if (!trusted(client, trusted_proxies) || comma == std::string_view::npos) return client;
    end = comma;
  }
  return client;
}

AddressBytes client_address(const boost::asio::ip::address& peer, const boost::beast::http::fields& fields,
                            const std::vector<config::Cidr>& trusted_proxies) {
  if (trusted_proxies.empty()) return address_bytes(peer);
  std::string joined;
  auto [first, last] = fields.equal_range("X-Forwarded-For");
  for (auto it = first; it != last; ++it) {
    if (!joined.empty()) joined += ',';
    joined += it->value();
  }
  return client_address(peer, joined, trusted_proxies);
}

std::uint64_t rate_key(const AddressBytes& address) {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  std::uint64_t key = 0;
  if (std::equal(std::begin(kMapped), std::end(kMapped), address.begin())) {
    for (std::size_t i = 12; i < 16; ++i) key = (key << 8) | address[i];
    return key | (std::uint64_t{1} << 32);  // meets /64 keys only in unallocated 0:1::/32
  }
  for (std::size_t i = 0; i < 8; ++i) key = (key << 8) | address[i];
  return key;
}

}  // namespace vixy::routing
