-- The permissions every route names, and the roles a studio starts with. The Owner may edit
-- role_permissions later in Settings > Roles.
INSERT INTO permissions (action_name, description) VALUES
  ('catalog.edit',     'Edit catalogs and pricing rules'),
  ('leads.view',       'See leads, contacts and inquiries'),
  ('leads.edit',       'Create and change leads, contacts and activities'),
  ('builds.view',      'See quotes'),
  ('builds.edit',      'Configure quotes and send proposals'),
  ('bookings.manage',  'Book projects and manage change orders'),
  ('projects.view',    'See projects'),
  ('invoices.manage',  'Issue invoices and record payments'),
  ('tasks.work',       'Work on tasks assigned to them'),
  ('tasks.manage',     'Assign and plan everyone''s tasks'),
  ('calendar.edit',    'Edit the team calendar'),
  ('reports.view',     'See reports'),
  ('settings.manage',  'Change studio settings'),
  ('users.manage',     'Invite staff, change roles, deactivate users');

INSERT INTO roles (name, description) VALUES
  ('Owner',        'Runs the studio: everything'),
  ('Admin',        'Office manager: everything but users and roles'),
  ('Sales',        'Leads, quotes and bookings'),
  ('Editor',       'Post-production tasks and the calendar'),
  ('Videographer', 'Shoots: tasks and the calendar'),
  ('Bookkeeper',   'Invoices, payments and reports');

INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id
FROM roles r JOIN permissions p ON
  CASE r.name
    WHEN 'Owner' THEN true
    WHEN 'Admin' THEN p.action_name <> 'users.manage'
    WHEN 'Sales' THEN p.action_name IN ('leads.view', 'leads.edit', 'builds.view', 'builds.edit',
                                        'bookings.manage', 'projects.view', 'calendar.edit')
    WHEN 'Editor' THEN p.action_name IN ('projects.view', 'tasks.work', 'calendar.edit')
    WHEN 'Videographer' THEN p.action_name IN ('projects.view', 'tasks.work', 'calendar.edit')
    WHEN 'Bookkeeper' THEN p.action_name IN ('projects.view', 'builds.view', 'invoices.manage', 'reports.view')
    ELSE false
  END;
