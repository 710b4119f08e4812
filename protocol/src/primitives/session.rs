//! session primitives.

use crate::{element, plain_node};

element! {
    /// `Login-Request`.
    pub struct LoginRequest {}
}

element! {
    /// `Login-Response`.
    pub struct LoginResponse {}
}

element! {
    /// `Logout-Request`.
    pub struct LogoutRequest {}
}

element! {
    /// `Disconnect`.
    pub struct Disconnect {}
}

element! {
    /// `KeepAlive-Request`.
    pub struct KeepAliveRequest {}
}

element! {
    /// `KeepAlive-Response`.
    pub struct KeepAliveResponse {}
}

element! {
    /// `Polling-Request`.
    pub struct PollingRequest {}
}

element! {
    /// `GetSPInfo-Request`.
    pub struct GetSpInfoRequest {}
}

element! {
    /// `GetSPInfo-Response`.
    pub struct GetSpInfoResponse {}
}

element! {
    /// `ClientCapability-Request`.
    pub struct ClientCapabilityRequest {}
}

element! {
    /// `ClientCapability-Response`.
    pub struct ClientCapabilityResponse {}
}

element! {
    /// `Service-Request`.
    pub struct ServiceRequest {}
}

element! {
    /// `Service-Response`.
    pub struct ServiceResponse {}
}

element! {
    /// `Status`.
    pub struct Status {}
}

element! {
    /// `VerifyID-Request`.
    pub struct VerifyIdRequest {}
}

element! {
    /// `WV-CSP-VersionDiscovery-Request`.
    pub struct VersionDiscoveryRequest {}
}

element! {
    /// `WV-CSP-VersionDiscovery-Response`.
    pub struct VersionDiscoveryResponse {}
}

element! {
    /// `Extended-Request`.
    pub struct ExtendedRequest {}
}

element! {
    /// `Extended-Response`.
    pub struct ExtendedResponse {}
}

plain_node!(
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    Disconnect,
    KeepAliveRequest,
    KeepAliveResponse,
    PollingRequest,
    GetSpInfoRequest,
    GetSpInfoResponse,
    ClientCapabilityRequest,
    ClientCapabilityResponse,
    ServiceRequest,
    ServiceResponse,
    Status,
    VerifyIdRequest,
    VersionDiscoveryRequest,
    VersionDiscoveryResponse,
    ExtendedRequest,
    ExtendedResponse
);
