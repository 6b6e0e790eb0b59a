#pragma once
// What a TLS connection to a node checks (net::connect applies it to every one, HTTP and
// WebSocket): the server name sent (SNI: virtual-hosted providers pick the certificate by it) and
// the name the certificate must carry.

#include <openssl/ssl.h>

#include <boost/asio/ssl/host_name_verification.hpp>
#include <string>

namespace vixy::net {

// An IPv4 or IPv6 address written as such (no brackets), not a name.
bool is_ip_literal(const std::string& host);

// Before the handshake: ask for `host`'s certificate by name (not for an IP literal, which SNI
// does not allow) and accept only a certificate valid for `host` (OpenSSL and Asio keep copies of it).
template <class TlsStream>
void expect_server(TlsStream& stream, const std::string& host) {
  if (!is_ip_literal(host)) {
    // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  }
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
}

}  // namespace vixy::net
