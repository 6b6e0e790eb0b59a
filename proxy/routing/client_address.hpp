#pragma once
// Who a request comes from, for [limits]: the connection's peer, or, when the peer is one of
// `trusted_proxies` (a load balancer in front of vixy), the address X-Forwarded-For gives for the
// client: the right-most one that is not itself a trusted proxy (each proxy appends the address it
// saw, so entries left of an untrusted one could be anything the client wrote).

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>

#include "config/config.hpp"

namespace vixy::routing {

using AddressBytes = std::array<std::uint8_t, 16>;  // IPv6; IPv4 as ::ffff:a.b.c.d

AddressBytes address_bytes(const boost::asio::ip::address& address);

// `forwarded_for`: every X-Forwarded-For field of the request, joined with ','; "" when none.
AddressBytes client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                            const std::vector<config::Cidr>& trusted_proxies);

// The client of a request arriving from `peer` with `fields` (its X-Forwarded-For, if any).
AddressBytes client_address(const boost::asio::ip::address& peer, const boost::beast::http::fields& fields,
                            const std::vector<config::Cidr>& trusted_proxies);

// The rate limiter's key: an IPv4 address, or an IPv6 address's /64 (one host's usual share: a
// client could otherwise send from every address of its block with a fresh budget each).
std::uint64_t rate_key(const AddressBytes& address);

}  // namespace vixy::routing
