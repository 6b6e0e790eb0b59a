#pragma once
// HTTP/1.1 headers as one contiguous string, to be written with the body as two plain buffers.
// Beast's serializer hands the write loop a nested view over every field (name, ": ", value, CRLF
// each), which the loop walks again for each partial write: in a profile of vixy under load that
// walk was 13 % of the process's samples. The text is what Beast's serializer writes for the same
// message (tests/property/flat_header_props.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>

namespace vixy::http {

// A field that belongs to one connection (RFC 9110 §7.6.1) or that vixy recomputes: never passed
// from a client to a node or back.
bool is_hop_by_hop(boost::beast::http::field field);

// The proxy's own writes, straight from what it holds instead of through a message object built
// for each request (about ten allocations of fields per request, a sixth of vixy's).

// The header a node gets for `header` (method and fields, hop-by-hop ones already removed) sent to
// `target`: then Host, the node's credentials in place of the client's, `user_agent` when the
// client sent none, and the length of a body of `body_size` bytes, as Beast's prepare_payload
// frames it. Written over `out`.
struct NodeFields {
  std::string_view host;
  std::optional<std::string_view> authorization;
  std::string_view user_agent;
};
void flat_node_request(std::string& out, const boost::beast::http::request_header<>& header, std::string_view target,
                       const NodeFields& node, std::size_t body_size);

// The header a client gets for a node's answer of known length: HTTP/1.1, the node's status with
// its standard reason, its fields but the hop-by-hop ones, then "Connection: close" unless the
// connection stays open, and the length. Written over `out`.
void flat_client_header(std::string& out, const boost::beast::http::response_header<>& node, bool keep_alive,
                        std::uint64_t content_length);

}  // namespace vixy::http
