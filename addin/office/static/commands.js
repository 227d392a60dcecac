// The ribbon's function commands: every button id of addin/ribbon/buttons.py (the manifest
// derives its controls from the same declaration) associated with a handler that shows the
// task pane and presses the same button there. The command runs on in the shared runtime
// after event.completed(), so a long pull never hits the function-command time limit.

export const BUTTON_IDS = [
  "crm_sign_in", "crm_pull", "crm_push", "crm_validate",
  "crm_import", "crm_refresh_reports", "crm_upgrade", "crm_help",
];

export async function showTaskpane() {
  if (Office.context.requirements.isSetSupported("SharedRuntime", "1.1")) await Office.addin.showAsTaskpane();
}

export function associateAll(press) {
  // press(id) -> Promise: the task pane's own handling of a click on button `id`
  for (const id of BUTTON_IDS) {
    Office.actions.associate(id, async (event) => {
      try {
        await showTaskpane();
        press(id).catch((err) => console.error(`CRM ${id}:`, err));
      } finally {
        event.completed();
      }
    });
  }
}
