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
; Held by the running app (app/core/winmutex.py); the uninstaller checks it.
#define AppMutexName "meterbridge-single-instance"
; The app's own start-in-the-tray command (checked by build/check_installer.sh against
; the app's argument parser): used by "start with Windows" and after an upgrade.
#define TrayArgs "gui --minimized"

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
; Per user only: no "install for all users" (with it the program went to the admin's own
; %LOCALAPPDATA% while shortcuts and the uninstall entry were machine-wide).
PrivilegesRequired=lowest
OutputBaseFilename=meterbridge-{#AppVersion}-setup
SetupIconFile=resources\meterbridge.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ArchitecturesInstallIn64BitMode=x64compatible
; A running meterbridge holds its files open. An upgrade closes it through the Restart
; Manager (CloseApplications; silent installs close it without asking) and starts it again
; in the tray afterwards ([Run] below, when it was running). No AppMutex: Setup would refuse
; to go on at its first page -- and a silent upgrade would fail -- before the Restart
; Manager could close the app. RestartApplications needs the app to register with the
; Restart Manager, which it does not; [Run] restarts it instead.
CloseApplications=force
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "startwithwindows"; Description: "Start meterbridge when I sign in to Windows (runs in the tray)"; GroupDescription: "Startup:"; Flags: unchecked
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: files the new version no longer has must not stay
; behind (Python would import stale modules, Qt would load stale plugins).
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "meterbridge"; ValueData: """{app}\{#AppExe}"" {#TrayArgs}"; Flags: uninsdeletevalue; Tasks: startwithwindows
; "Open with > meterbridge" for meter files (.csv, .df2), per user; the default program stays.
Root: HKCU; Subkey: "Software\Classes\meterbridge.MeterFile"; ValueType: string; ValueName: ""; ValueData: "Meter data file"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\meterbridge.MeterFile\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKCU; Subkey: "Software\Classes\meterbridge.MeterFile\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" gui ""%1"""
Root: HKCU; Subkey: "Software\Classes\.csv\OpenWithProgids"; ValueType: string; ValueName: "meterbridge.MeterFile"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.df2\OpenWithProgids"; ValueType: string; ValueName: "meterbridge.MeterFile"; ValueData: ""; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent; Check: not AppWasRunning
; Started again after an upgrade that closed it (silent upgrades too), in the tray.
Filename: "{app}\{#AppExe}"; Parameters: "{#TrayArgs}"; Flags: nowait; Check: AppWasRunning

[Code]
var
  WasRunning: Boolean;

{ Before the Restart Manager closes a running meterbridge: remember to start it again. }
function PrepareToInstall(var NeedsRestart: Boolean): String;
begin
  WasRunning := CheckForMutexes('{#AppMutexName}');
  Result := '';
end;

function AppWasRunning: Boolean;
begin
  Result := WasRunning;
end;

{ /REMOVEUSERDATA on the uninstaller's command line: remove settings, journal and outbox
  without asking (for silent uninstalls: winget, Intune, scripts). }
function RemoveUserDataAsked: Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), '/REMOVEUSERDATA') = 0 then
      Result := True;
end;

{ The uninstaller cannot remove the files of a running app: ask to quit it (or give up). }
function InitializeUninstall: Boolean;
begin
  Result := True;
  while Result and CheckForMutexes('{#AppMutexName}') do
  begin
    if UninstallSilent then
    begin
      Log('meterbridge is running: quit it (tray icon, Quit) and uninstall again');
      Result := False;
    end
    else
      Result := MsgBox('meterbridge is running. Quit it from its tray icon, then click OK.',
                       mbError, MB_OKCANCEL) = IDOK;
  end;
end;

{ Uninstall keeps the user's settings, journal and outbox unless the user asks to remove
  them. A silent uninstall never asks (a message box would wait for a click nobody can
  give, while unins000.exe has already returned): it keeps them, or removes them with
  /REMOVEUSERDATA. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Remove: Boolean;
begin
  if CurUninstallStep = usPostUninstall then
  begin
    Remove := RemoveUserDataAsked;
    if not Remove and not UninstallSilent then
      Remove := MsgBox('Also remove meterbridge''s settings, journal and outbox files?' + #13#10 +
                       '(Choose No to keep them for a later reinstall.)',
                       mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
    if Remove then
    begin
      DelTree(ExpandConstant('{userappdata}\meterbridge'), True, True, True);
      DelTree(ExpandConstant('{localappdata}\meterbridge'), True, True, True);
    end;
  end;
end;
