#include "net/upstream_url.hpp"

#include <openssl/evp.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "net/redact.hpp"

namespace vixy::net {
namespace {

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

std::string UpstreamUrl::host_header() const {
  bool default_port = (tls && port == "443") || (!tls && port == "80");
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + port;
}

std::string UpstreamUrl::target(std::string_view suffix) const {
  std::string t = path == "/" ? std::string() : path;
  if (!suffix.empty()) {
    if (suffix.front() != '/') t += '/';
    t += suffix;
  }
  if (t.empty()) t = "/";
  if (!query.empty()) {
    t += '?';
    t += query;
  }
  return t;
}

Result<UpstreamUrl> parse_upstream_url(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return Problem{"not an absolute URL"};
  const boost::urls::url_view& u = *parsed;
  UpstreamUrl out;
  std::string scheme(u.scheme());
  if (scheme == "https" || scheme == "wss") {
    out.tls = true;
  } else if (scheme != "http" && scheme != "ws") {
    return Problem{"scheme must be http, https, ws or wss, got \"" + scheme + "\""};
  }
  if (!u.has_authority() || u.host().empty()) return Problem{"URL has no host"};
  if (u.host_type() == boost::urls::host_type::ipv6) {
    out.host = std::string(u.encoded_host_address());
  } else {
    out.host = std::string(u.host());
  }
  if (u.has_port()) {
    if (u.port_number() == 0) return Problem{"port must be 1-65535"};
    out.port = std::string(u.port());
  } else {
    out.port = out.tls ? "443" : "80";
  }
  out.path = std::string(u.encoded_path());
  while (out.path.size() > 1 && out.path.back() == '/') out.path.pop_back();
  if (out.path.empty()) out.path = "/";
  if (u.has_query()) out.query = std::string(u.encoded_query());
  if (u.has_userinfo()) out.basic_auth = "Basic " + base64(std::string(u.userinfo()));
  out.redacted = redact_url(text);
  return out;
}

}  // namespace vixy::net
