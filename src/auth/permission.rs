//! The permissions a role can hold: one variant per row of the `permissions` table
//! (`migrations/0003_roles_and_permissions.sql`). Code names a permission only through this
//! enum, so a typo does not compile; `tests/app/permissions.rs` checks that the enum and the
//! table hold the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    CatalogEdit,
    LeadsView,
    LeadsEdit,
    BuildsView,
    BuildsEdit,
    BookingsManage,
    ProjectsView,
    InvoicesManage,
    TasksWork,
    TasksManage,
    CalendarEdit,
    ReportsView,
    SettingsManage,
    UsersManage,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Permission::CatalogEdit,
        Permission::LeadsView,
        Permission::LeadsEdit,
        Permission::BuildsView,
        Permission::BuildsEdit,
        Permission::BookingsManage,
        Permission::ProjectsView,
        Permission::InvoicesManage,
        Permission::TasksWork,
        Permission::TasksManage,
        Permission::CalendarEdit,
        Permission::ReportsView,
        Permission::SettingsManage,
        Permission::UsersManage,
    ];

    /// Its `permissions.action_name`.
    pub const fn name(self) -> &'static str {
        match self {
            Permission::CatalogEdit => "catalog.edit",
            Permission::LeadsView => "leads.view",
            Permission::LeadsEdit => "leads.edit",
            Permission::BuildsView => "builds.view",
            Permission::BuildsEdit => "builds.edit",
            Permission::BookingsManage => "bookings.manage",
            Permission::ProjectsView => "projects.view",
            Permission::InvoicesManage => "invoices.manage",
            Permission::TasksWork => "tasks.work",
            Permission::TasksManage => "tasks.manage",
            Permission::CalendarEdit => "calendar.edit",
            Permission::ReportsView => "reports.view",
            Permission::SettingsManage => "settings.manage",
            Permission::UsersManage => "users.manage",
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
