// Every word of the task pane and the sign-in dialog, in zh-CN and English. The buttons'
// labels come from the service (/office/api/config), derived from addin/ribbon/buttons.py.

export const WORDS = {
  title: ["CRM", "CRM"],
  loading: ["正在加载…", "Loading…"],
  signed_in_as: ["已登录：", "Signed in as "],
  not_signed_in: ["尚未登录", "Not signed in"],
  sign_in: ["登录", "Sign in"],
  sign_out: ["退出登录", "Sign out"],
  signed_out: ["已退出登录", "Signed out"],
  token_expired: ["登录已过期，请重新登录", "Your sign-in expired: sign in again"],
  sign_in_first: ["请先登录", "Sign in first"],
  reading: ["正在读取工作表", "Reading the sheets"],
  uploading: ["正在上传", "Uploading"],
  running: ["服务器正在运行命令", "The server is running the command"],
  applying: ["正在写入工作簿", "Writing to the workbook"],
  downloading: ["正在下载文件", "Downloading the file"],
  done: ["完成", "Done"],
  failed: ["未完成", "Not done"],
  busy: ["另一个命令正在运行，请稍候", "Another command is running: wait for it to finish"],
  results: ["结果", "Results"],
  messages: ["消息", "Messages"],
  conflicts: ["冲突", "Conflicts"],
  sheet: ["工作表", "Sheet"],
  row: ["行", "Row"],
  field: ["字段", "Field"],
  message: ["说明", "Message"],
  mine: ["我的值", "Mine"],
  theirs: ["服务器的值", "Server's"],
  choose: ["请选择", "Choose"],
  choice_written: ["已写入选择，点“推送”提交", "Choice written: click Push to send it"],
  go_to_cell: ["点击跳转到单元格", "Click to go to the cell"],
  pick_file: ["选择要导入的文件（或导入报告以确认导入）", "Choose the file to import (or its import report, to confirm)"],
  pick_cancel: ["取消", "Cancel"],
  open_file: ["打开", "Open"],
  download_file: ["下载文件", "Download the file"],
  opened_file: ["已在新窗口中打开：", "Opened in a new window: "],
  notes_unsupported: ["此版本的 Excel 不支持批注 API（需要 ExcelApi 1.18），批注未读取或写入",
    "This Excel lacks the notes API (ExcelApi 1.18): cell notes were not read or written"],
  action_failed: ["写入工作簿时出错，已在此处停止：", "Writing to the workbook stopped here: "],
  level_error: ["错误", "Error"],
  level_warning: ["警告", "Warning"],
  level_info: ["信息", "Info"],
  // sign-in dialog
  dialog_title: ["登录 CRM", "Sign in to the CRM"],
  username: ["用户名", "User name"],
  password: ["密码", "Password"],
  or_token: ["或粘贴访问令牌（向管理员索取）", "Or paste an access token (from your admin)"],
  token: ["访问令牌", "Access token"],
  submit: ["登录", "Sign in"],
  need_credentials: ["请填写用户名和密码，或粘贴访问令牌", "Enter a user name and a password, or paste a token"],
  signing_in: ["正在登录…", "Signing in…"],
};

export function langOf(value) {
  // "zh", "zh-CN", "en-US"... -> "zh" | "en"
  return /^zh/i.test(String(value ?? "")) ? "zh" : "en";
}

export function wordsFor(lang) {
  const i = langOf(lang) === "zh" ? 0 : 1;
  return Object.fromEntries(Object.entries(WORDS).map(([k, pair]) => [k, pair[i]]));
}
