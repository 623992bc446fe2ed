// The admin's script: the few live parts of server-rendered pages that work without it.
import { copyButtons } from "./copy";
import { live } from "./live";
import { brandPreview } from "./preview";
import { uploadForms } from "./upload";

copyButtons(document);
uploadForms(document);
brandPreview(document);
live(document);
