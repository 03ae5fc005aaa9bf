//! People and their access: login, password reset, invitations, My account (password, API
//! tokens), Settings > Users, Roles and Audit log, and `projectflo admin create-user`.
pub mod admin;
pub mod pages;
