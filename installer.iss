; Inno Setup script for meterbridge (per-user install, no admin rights).
; Built by build/make_release.py, which passes the version and the bundle folder:
;   ISCC /DAppVersion=0.1.0 /DSourceDir=dist\meterbridge /Odist\installer installer.iss

#ifndef AppVersion
  #error AppVersion must be passed in by build/make_release.py (/DAppVersion=x.y.z)
#endif
#ifndef SourceDir
  #define SourceDir "dist\meterbridge"
#endif

#define AppName "meterbridge"
#define AppExe "meterbridge.exe"

[Setup]
; Fixed AppId: upgrades replace the installed version instead of installing beside it.
AppId={{6C0F4E2B-6F3A-4B7E-9C7B-2D5E8A1F4B93}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=meterbridge
AppVerName={#AppName} {#AppVersion}
DefaultDirName={localappdata}\Programs\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputBaseFilename=meterbridge-{#AppVersion}-setup
SetupIconFile=resources\meterbridge.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible
; Close a running meterbridge (it holds its files open) before upgrading, and restart it after.
CloseApplications=force
RestartApplications=yes
AppMutex=meterbridge-single-instance

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "startwithwindows"; Description: "Start meterbridge when I sign in to Windows (runs in the tray)"; GroupDescription: "Startup:"; Flags: unchecked
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "meterbridge"; ValueData: """{app}\{#AppExe}"" --tray"; Flags: uninsdeletevalue; Tasks: startwithwindows

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
{ Uninstall keeps the user's settings, journal and outbox unless the user asks to remove them. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
  begin
    if MsgBox('Also remove meterbridge''s settings, journal and outbox files?' + #13#10 +
              '(Choose No to keep them for a later reinstall.)',
              mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
    begin
      DelTree(ExpandConstant('{userappdata}\meterbridge'), True, True, True);
      DelTree(ExpandConstant('{localappdata}\meterbridge'), True, True, True);
    end;
  end;
end;
