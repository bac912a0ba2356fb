// Boost.Asio, Asio SSL and Boost.Beast compiled once, here, instead of in every
// translation unit that uses them (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set for all users of coffer_beast).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
