"""m365-emulator: a local Entra ID, SharePoint Online and Microsoft Graph for tests (see ../README.md)."""
