#include "http/flat_header.hpp"

namespace vixy::http {
namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

std::size_t fields_size(const boost::beast::http::fields& fields) {
  std::size_t size = 2;
  for (const auto& field : fields) size += field.name_string().size() + field.value().size() + 4;
  return size;
}

}  // namespace

bool is_hop_by_hop(boost::beast::http::field name) {
  using boost::beast::http::field;
  switch (name) {
    case field::connection:
    case field::expect:  // vixy has read the client's body itself: nothing for a node to await
    case field::keep_alive:
    case field::proxy_authenticate:
    case field::proxy_authorization:
    case field::proxy_connection:
    case field::te:
    case field::trailer:
    case field::transfer_encoding:
    case field::upgrade:
    case field::host:
    case field::content_length:  // recomputed for the body actually sent
      return true;
    default:
      return false;
  }
}

void flat_node_request(std::string& out, const boost::beast::http::request_header<>& header, std::string_view target,
                       const NodeFields& node, std::size_t body_size) {
  using boost::beast::http::field;
  using boost::beast::http::verb;
  out.clear();
  // One allocation: the string grew seven times a request as it was written.
  out.reserve(header.method_string().size() + target.size() + fields_size(header) + node.host.size() +
              (node.authorization ? node.authorization->size() : 0) + node.user_agent.size() + 96);
  out += header.method_string();
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\n";
  bool has_user_agent = false;
  for (const auto& f : header) {
    if (f.name() == field::host || (f.name() == field::authorization && node.authorization)) continue;
    has_user_agent = has_user_agent || f.name() == field::user_agent;
    append_field(out, f.name_string(), f.value());
  }
  append_field(out, "Host", node.host);
  if (node.authorization) append_field(out, "Authorization", *node.authorization);
  if (!has_user_agent) append_field(out, "User-Agent", node.user_agent);
  // RFC 9110 §8.6: a length for any body, and for an empty one where the method expects a body.
  const auto method = header.method();
  if (body_size > 0 || method == verb::post || method == verb::put || method == verb::options) {
    append_field(out, "Content-Length", std::to_string(body_size));
  }
  out += "\r\n";
}

void flat_client_header(std::string& out, const boost::beast::http::response_header<>& node, bool keep_alive,
                        std::uint64_t content_length) {
  const unsigned status = node.result_int();
  out.clear();
  out.reserve(fields_size(node) + 96);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  out += "\r\n";
  for (const auto& f : node) {
    if (!is_hop_by_hop(f.name())) append_field(out, f.name_string(), f.value());
  }
  if (!keep_alive) out += "Connection: close\r\n";
  append_field(out, "Content-Length", std::to_string(content_length));
  out += "\r\n";
}

}  // namespace vixy::http
