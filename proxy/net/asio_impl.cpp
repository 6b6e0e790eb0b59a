// The one translation unit that compiles Asio and Beast (BOOST_*_SEPARATE_COMPILATION), so that the
// rest of the tree only includes their declarations and builds faster.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
